import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ConsumerManifest } from '../../shared/manifest/consumer.ts'
import { names } from '../../shared/bus/names.ts'
import { maxAttempts, type RetryPolicy } from '../../shared/bus/retry.ts'
import { serviceTable } from '../../shared/services.ts'
import { NS, root } from './common.ts'
import { loadAudiences } from './sse.ts'


export interface QueueInfo {
  service: string
  queue: string
  bindings: string[]
  declaration?: ConsumerManifest
  note?: string
}

export async function loadConsumers(): Promise<{ queues: QueueInfo[]; notes: string[] }> {
  const queues: QueueInfo[] = []
  const notes: string[] = []
  for (const { name } of serviceTable) {
    const file = join(root, 'services', name, 'topology.ts')
    if (!existsSync(file)) {
      notes.push(`services/${name}/topology.ts is missing: its consumers, if any, are not documented.`)
      continue
    }
    const module = (await import(pathToFileURL(file).href)) as { consumers?: ConsumerManifest[] }
    for (const declaration of module.consumers ?? []) {
      queues.push({ service: declaration.service, queue: names.queue(NS, declaration.service, declaration.purpose), bindings: declaration.bindings, declaration })
    }
  }
  // Not a declaration (it is not durable), but it receives events: each gateway instance's live queue.
  const audiences = await loadAudiences()
  if (audiences) {
    queues.push({
      service: 'gateway',
      queue: '(server-named, one per gateway instance)',
      bindings: [...audiences.pushedRoutingKeys],
      note: 'exclusive, auto-delete classic queue of each running gateway (services/gateway/live/feed.ts), feeding its live SSE streams; not in topology.ts because it is not durable'
    })
  }
  return { queues, notes }
}

export function retryText(policy: RetryPolicy): string {
  if (policy.kind === 'delayed') {
    return `delayed: retried after ${policy.delaysMs.map(formatMs).join(', ')} (delay queues, order not kept), dead-lettered after ${maxAttempts(policy)} attempts`
  }
  return `blocking: retried in place (prefetch 1, order kept) up to ${policy.maxAttempts} attempts, from ${formatMs(policy.initialDelayMs)} doubling`
}

export const formatMs = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)
