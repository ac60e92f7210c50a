import type { EventPayload, RoutingKey } from '../contracts/index.ts'
import type { Bus } from './bus.ts'
import type { Consumer, ConsumerDeclaration } from './consumer.ts'
import type { Envelope } from './envelope.ts'
import type { MessageMeta } from './message.ts'
import { writeOutbox, type OutboxIdentity, type OutboxTransaction } from './outbox.ts'
import type { RetryPolicy } from './retry.ts'

/**
 * Task queues: slow side effects (an email, a digest, an HTTP call) taken off
 * the request path and out of job transactions. A task is an event like any
 * other, routing key `task.<service>.<name>` with a contract in
 * shared/contracts/, written to the outbox in the caller's transaction (so it
 * is enqueued iff that commits) and consumed by an ordinary durable consumer:
 * retries by its policy, then the dead-letter queue, from which `bazaar dlq
 * replay` sends it back.
 */
export type TaskRoutingKey = Extract<RoutingKey, `task.${string}.${string}`>

/** The routing key of a service's task: `task.<service>.<name>`. */
export type TaskKey<S extends string, N extends string> = Extract<TaskRoutingKey, `task.${S}.${N}`>

export const taskRoutingKey = <S extends string, N extends string>(service: S, name: N): `task.${S}.${N}` => `task.${service}.${name}`

export interface TaskDeclaration<S extends string = string, N extends string = string> {
  /** the service that does the task (it consumes the queue) */
  service: S
  /** the task, e.g. `send-email`: queue `<ns>.<service>.task-<name>` */
  name: N
  /** default: delayed retries after 1 s, 10 s, 60 s, then the dead-letter queue */
  retry?: RetryPolicy
  prefetch?: number
}

/** The task's queue as a consumer declaration: for the service's topology.ts (the CLI reads it). */
export function taskDeclaration(task: TaskDeclaration): ConsumerDeclaration {
  return {
    service: task.service,
    purpose: `task-${task.name}`,
    bindings: [taskRoutingKey(task.service, task.name)],
    ...(task.retry ? { retry: task.retry } : {}),
    ...(task.prefetch ? { prefetch: task.prefetch } : {})
  }
}

/** A bus, or an app that has one (`app.get('bus')`). */
export type BusHolder = Bus | { get(name: 'bus'): Bus }

/**
 * Consumes one task queue with `handler`. Make the handler idempotent (the
 * inbox, or a natural key at the receiving end): a task may be delivered more
 * than once.
 */
export function taskConsumer<S extends string, N extends string>(
  holder: BusHolder,
  task: TaskDeclaration<S, N> & { handler: (message: Envelope<TaskKey<S, N>>) => Promise<void>; shutdownTimeoutMs?: number }
): Consumer {
  const bus = 'consumer' in holder ? holder : holder.get('bus')
  const key = taskRoutingKey(task.service, task.name)
  return bus.consumer({
    ...taskDeclaration(task),
    handlers: { [key]: task.handler },
    ...(task.shutdownTimeoutMs ? { shutdownTimeoutMs: task.shutdownTimeoutMs } : {})
  })
}

/** Enqueues a task in the caller's transaction: a thin name over writeOutbox (checked against its contract now). */
export function enqueueTask<K extends TaskRoutingKey>(
  trx: OutboxTransaction,
  identity: OutboxIdentity,
  key: K,
  payload: EventPayload<K>,
  meta?: MessageMeta
): Promise<string> {
  return writeOutbox(trx, identity, key, payload, meta)
}
