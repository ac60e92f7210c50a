import { contracts, routingKeys, type RoutingKey } from '../../shared/contracts/index.ts'
import { checkContract } from '../../shared/contracts/validate.ts'
import type { Json, Schema } from './common.ts'
import { topicMatches } from '../../shared/bus/topic.ts'
import { loadConsumers, type QueueInfo } from './consumers.ts'
import { example } from './examples.ts'
import { loadManifests, producersOf, type Producer, type ResourceEntry } from './manifests.ts'
import { plain } from './markdown.ts'
import { sseDeliveries, type SseDelivery } from './sse.ts'

/** Everything events.md, asyncapi.yaml and the SSE part of api.md say, gathered once. */
export interface EventsModel {
  producers: Map<RoutingKey, Producer[]>
  manifests: Map<string, ResourceEntry>
  queues: QueueInfo[]
  consumerNotes: string[]
  examples: Map<RoutingKey, Json>
  sse?: SseDelivery[]
}

export async function eventsModel(): Promise<EventsModel> {
  const manifests = await loadManifests()
  const { queues, notes } = await loadConsumers()
  const producers = await producersOf(manifests, queues.flatMap((q) => (q.declaration ? [q.declaration] : [])))
  const examples = new Map<RoutingKey, Json>()
  for (const key of routingKeys) {
    const value = example(plain(contracts[key]))
    const check = checkContract(key, value)
    if (!check.ok) throw new Error(`docs: the generated example of ${key} does not match its contract: ${check.reason}`)
    examples.set(key, value)
  }
  return { producers, manifests, queues, consumerNotes: notes, examples, sse: await sseDeliveries() }
}

export const schemaName = (key: RoutingKey): string => (contracts[key] as Schema).$id ?? key
export const consumersOf = (model: EventsModel, key: RoutingKey) => model.queues.filter((q) => q.bindings.some((b) => topicMatches(b, key)))
export const producerLabel = (p: Producer) => (p.producer === 'cli' ? '`bazaar` CLI (operators)' : `**${p.producer}**`)
export const anchor = (key: string) => key.replace(/\./g, '')

