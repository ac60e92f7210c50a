import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { maintenanceCommandsManifest } from '../../cli/commands/maintenance.manifest.ts'
import { claimDeadlineManifest } from '../../services/orders/jobs/claim-deadline.manifest.ts'
import { paymentDeadlineManifest } from '../../services/orders/jobs/payment-deadline.manifest.ts'
import { importDeadlineManifest, importIterationManifest } from '../../services/catalog/imports/import-flow.manifest.ts'
import { renewalManifest } from '../../services/subscriptions/renewals/renewal.manifest.ts'
import { chargeJobManifest, refundJobManifest } from '../../services/payments/jobs/payment-jobs.manifest.ts'
import { routingKeys, type RoutingKey } from '../../shared/contracts/index.ts'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'
import type { ResourceManifest } from '../../shared/manifest/resource.ts'
import type { PublisherManifest } from '../../shared/manifest/publisher.ts'
import { serviceTable } from '../../shared/services.ts'
import { root } from './common.ts'
import { specialRoutes } from './notes.ts'

/** Publishers that are not resources: their manifests, listed here because they are few. */
const publishers: PublisherManifest[] = [maintenanceCommandsManifest, claimDeadlineManifest, paymentDeadlineManifest, importIterationManifest, importDeadlineManifest, renewalManifest, chargeJobManifest, refundJobManifest]

export interface ResourceEntry {
  service: string
  manifest: ResourceManifest
  file: string
}

const isManifest = (value: unknown, path: string): value is ResourceManifest =>
  !!value && typeof value === 'object' && (value as ResourceManifest).path === path && Array.isArray((value as ResourceManifest).methods)

/** Each public path's manifest, `services/<service>/resources/<path>/<path>.manifest.ts`; a path without one fails the docs. */
export async function loadManifests(): Promise<Map<string, ResourceEntry>> {
  const out = new Map<string, ResourceEntry>()
  const missing: string[] = []
  for (const service of serviceTable) {
    for (const path of service.paths) {
      if (specialRoutes[path]) continue
      const file = `services/${service.name}/resources/${path}/${path}.manifest.ts`
      if (!existsSync(join(root, file))) {
        missing.push(`/${path}: no ${file}`)
        continue
      }
      const module = (await import(pathToFileURL(join(root, file)).href)) as Record<string, unknown>
      const manifest = Object.values(module).find((value) => isManifest(value, path))
      if (!manifest) missing.push(`/${path}: ${file} exports no manifest with path '${path}'`)
      else out.set(path, { service: service.name, manifest, file })
    }
  }
  if (missing.length) throw new Error(`docs: resources without a manifest:\n${missing.join('\n')}`)
  return out
}

export interface Producer {
  producer: string
  /** where, as markdown: the resource methods that emit it (`create /orders`), or the module that publishes it */
  site: string
  via: string
}

/** Who emits each routing key: the resources' declared emits, the consumers', then the other publishers'. */
export async function producersOf(manifests: Map<string, ResourceEntry>, consumers: readonly ConsumerManifest[]): Promise<Map<RoutingKey, Producer[]>> {
  const producers = new Map<RoutingKey, Producer[]>(routingKeys.map((k) => [k, []]))
  for (const [path, { service, manifest }] of manifests) {
    for (const key of routingKeys) {
      const methods = manifest.methods.filter((m) => manifest.emits[m]?.includes(key))
      if (!methods.length) continue
      const calls = methods.map((m) => `\`${m} /${path}\``).join(', ')
      const list = producers.get(key)!
      const same = list.find((p) => p.producer === service)
      if (same) same.site += `, ${calls}`
      else list.push({ producer: service, site: `on ${calls}`, via: 'emit() through the outbox' })
    }
  }
  for (const consumer of consumers) {
    for (const key of consumer.emits ?? []) {
      producers.get(key)!.push({ producer: consumer.service, site: `in its consumer \`${consumer.purpose}\``, via: 'writeOutbox() in a consumer' })
    }
  }
  for (const publisher of publishers) {
    for (const key of publisher.emits) producers.get(key)!.push({ producer: publisher.producer, site: `in \`${publisher.file}\``, via: publisher.via })
  }
  return producers
}
