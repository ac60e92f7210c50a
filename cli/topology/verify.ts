import type { Topology } from '../../shared/bus/topology.ts'
import type { BrokerBinding, BrokerExchange, BrokerQueue } from '../lib/management.ts'

export interface Difference {
  kind: 'exchange' | 'queue' | 'binding'
  name: string
  problem: 'missing' | 'drifted'
  detail: string
}

export interface BrokerTopology {
  exchanges: BrokerExchange[]
  queues: BrokerQueue[]
  bindings: BrokerBinding[]
}

/** Every way the broker differs from the declared topology: missing or drifted exchanges, queues, bindings. */
export function compareTopology(declared: Topology, broker: BrokerTopology): Difference[] {
  const differences: Difference[] = []
  const exchanges = new Map(broker.exchanges.map((e) => [e.name, e]))
  for (const spec of declared.exchanges) {
    const actual = exchanges.get(spec.name)
    if (!actual) {
      differences.push({ kind: 'exchange', name: spec.name, problem: 'missing', detail: `exchange ${spec.name} (${spec.type}) is missing` })
      continue
    }
    const drift: string[] = []
    if (actual.type !== spec.type) drift.push(`type is ${actual.type}, declared ${spec.type}`)
    if (!actual.durable) drift.push('is not durable')
    drift.push(...argumentDrift(spec.arguments ?? {}, actual.arguments ?? {}))
    for (const d of drift) differences.push({ kind: 'exchange', name: spec.name, problem: 'drifted', detail: `exchange ${spec.name}: ${d}` })
  }
  const queues = new Map(broker.queues.map((q) => [q.name, q]))
  for (const spec of declared.queues) {
    const actual = queues.get(spec.name)
    if (!actual) {
      differences.push({ kind: 'queue', name: spec.name, problem: 'missing', detail: `queue ${spec.name} (${spec.purpose} queue of ${spec.service}) is missing` })
      continue
    }
    const drift: string[] = []
    if (!actual.durable) drift.push('is not durable')
    drift.push(...argumentDrift(spec.arguments, actual.arguments ?? {}))
    for (const d of drift) differences.push({ kind: 'queue', name: spec.name, problem: 'drifted', detail: `queue ${spec.name}: ${d}` })
  }
  const bindings = new Set(broker.bindings.map((b) => `${b.source}|${b.destination}|${b.routing_key}`))
  for (const spec of declared.bindings) {
    if (bindings.has(`${spec.exchange}|${spec.queue}|${spec.routingKey}`)) continue
    differences.push({
      kind: 'binding',
      name: `${spec.exchange} -> ${spec.queue}`,
      problem: 'missing',
      detail: `binding ${spec.exchange} -> ${spec.queue} with routing key ${spec.routingKey} is missing`
    })
  }
  return differences
}

/** Arguments that differ, are missing or are unexpected, one phrase each. */
function argumentDrift(declared: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const drift: string[] = []
  for (const [key, value] of Object.entries(declared)) {
    if (!(key in actual)) drift.push(`argument ${key} is missing (declared ${show(value)})`)
    else if (show(actual[key]) !== show(value)) drift.push(`argument ${key} is ${show(actual[key])}, declared ${show(value)}`)
  }
  for (const key of Object.keys(actual)) {
    if (!(key in declared)) drift.push(`argument ${key} = ${show(actual[key])} is not declared`)
  }
  return drift
}

const show = (value: unknown) => JSON.stringify(value)
