/**
 * Every broker name in one place. All carry the namespace, so several
 * deployments or test runs can share one broker without seeing each other.
 */
export const names = {
  /** the topic exchange every domain event goes to */
  eventsExchange: (namespace: string) => `${namespace}.events`,
  /** fanout exchange for operator commands to running consumers (e.g. skip) */
  controlExchange: (namespace: string) => `${namespace}.control`,
  /** `<namespace>.<consuming-service>.<purpose>` */
  queue: (namespace: string, service: string, purpose: string) => `${namespace}.${service}.${purpose}`,
  retryQueue: (queue: string, delayMs: number) => `${queue}.retry.${formatDelay(delayMs)}`,
  deadLetterQueue: (queue: string) => `${queue}.dlq`,
  /** a partitioned consumer's headers exchange, bound from the events exchange with its bindings */
  partitionExchange: (queue: string) => `${queue}.partitions`,
  /** where its partition exchange sends an event without a partition header (alternate exchange) */
  unpartitionedExchange: (queue: string) => `${queue}.unpartitioned`,
  /** partition `index` of a partitioned consumer: `<queue>.p<index>` */
  partitionQueue: (queue: string, index: number) => `${queue}.p${index}`,
  isDeadLetterQueue: (queue: string) => queue.endsWith('.dlq'),
  /** the consuming queue a dead-letter queue belongs to */
  queueOfDeadLetterQueue: (dlq: string) => dlq.replace(/\.dlq$/, '')
}

function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
