import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { contracts, type RoutingKey } from '../../shared/contracts/index.ts'
import { root } from './common.ts'
import { example, uuidFor } from './examples.ts'
import { plain } from './markdown.ts'

type AudiencesModule = typeof import('../../services/gateway/history/audiences.ts') & typeof import('../../services/gateway/live/render.ts')
let audiencesCache: AudiencesModule | null | undefined
export async function loadAudiences(): Promise<AudiencesModule | null> {
  if (audiencesCache !== undefined) return audiencesCache
  const file = join(root, 'services/gateway/history/audiences.ts')
  const renderFile = join(root, 'services/gateway/live/render.ts')
  audiencesCache = existsSync(file) && existsSync(renderFile)
    ? ({ ...((await import(pathToFileURL(file).href)) as object), ...((await import(pathToFileURL(renderFile).href)) as object) } as AudiencesModule)
    : null
  return audiencesCache
}

export interface SseDelivery {
  routingKey: RoutingKey
  event: string
  to: string
  extra: Record<string, unknown>
}

/**
 * Asks the gateway's own `audiencesOf`/`addressOf`/`render` who receives what:
 * each pushed event (example payload) against an appliance and a user for
 * every id field of the payload, plus strangers.
 */
export async function sseDeliveries(): Promise<SseDelivery[] | undefined> {
  const a = await loadAudiences()
  if (!a) return undefined
  const out: SseDelivery[] = []
  for (const routingKey of a.pushedRoutingKeys) {
    const payload = example(plain(contracts[routingKey])) as Record<string, unknown>
    const idFields = Object.keys(payload).filter((k) => /^(user|buyer|seller)Id$/.test(k))
    type P = Parameters<AudiencesModule['render']>[1]
    const principals: Array<{ label: string; principal: P }> = []
    for (const field of idFields) {
      principals.push({ label: `the user whose id is the payload's \`${field}\``, principal: { kind: 'user', userId: payload[field] as string, role: 'buyer' } })
      principals.push({ label: `appliances of the payload's \`${field}\``, principal: { kind: 'appliance', applianceId: uuidFor('appliance'), sellerId: payload[field] as string } })
    }
    principals.push({ label: 'every user', principal: { kind: 'user', userId: uuidFor('stranger'), role: 'admin' } })
    principals.push({ label: 'every appliance', principal: { kind: 'appliance', applianceId: uuidFor('other appliance'), sellerId: uuidFor('other seller') } })
    const address = a.addressOf(routingKey, payload as never)
    const received: Array<{ label: string; event: string; extra: Record<string, unknown>; stranger: boolean }> = []
    for (const { label, principal } of principals) {
      if (!a.audiencesOf(principal).some((audience) => address.audiences.includes(audience))) continue
      const shown = a.render({ id: 1, routingKey, payload: payload as never, audiences: address.audiences }, principal)
      if (!shown) continue
      const data = shown.data as Record<string, unknown>
      const extra = Object.fromEntries(Object.entries(data).filter(([k, v]) => !(k in payload) || payload[k] !== v))
      received.push({ label, event: shown.name, extra, stranger: label.startsWith('every') })
    }
    const everyoneGets = received.filter((r) => r.stranger).length === 2
    for (const r of received) {
      if (everyoneGets && !r.stranger) continue
      out.push({ routingKey, event: r.event, to: everyoneGets ? 'everyone (users and appliances)' : r.label, extra: r.extra })
      if (everyoneGets) break
    }
  }
  return out
}
