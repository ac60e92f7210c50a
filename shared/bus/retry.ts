/**
 * How a consumer retries a message whose handler failed.
 *
 * - `delayed` (non-blocking): the message is parked in a delay queue (a quorum
 *   queue with a message TTL that dead-letters back) and the consumer goes on
 *   with the next message. Order is not kept; throughput is.
 * - `blocking` (ordered): the same message is retried in place with
 *   exponential backoff; nothing behind it starts until it succeeds or is
 *   dead-lettered. Prefetch is 1.
 */
export type RetryPolicy =
  | { kind: 'delayed'; delaysMs: number[] }
  | { kind: 'blocking'; maxAttempts: number; initialDelayMs: number; factor?: number; maxDelayMs?: number }

export const defaultRetryPolicy: RetryPolicy = { kind: 'delayed', delaysMs: [1_000, 10_000, 60_000] }

/** Total handler runs a policy allows before the message is dead-lettered. */
export function maxAttempts(policy: RetryPolicy): number {
  return policy.kind === 'delayed' ? policy.delaysMs.length + 1 : policy.maxAttempts
}

/** The wait before the retry that follows the given failed attempt (1-based). */
export function blockingDelay(policy: Extract<RetryPolicy, { kind: 'blocking' }>, attempt: number): number {
  const raw = policy.initialDelayMs * (policy.factor ?? 2) ** (attempt - 1)
  return Math.min(raw, policy.maxDelayMs ?? 60_000)
}

/** Distinct delays, each one delay queue. */
export function delayQueueDelays(policy: RetryPolicy): number[] {
  return policy.kind === 'delayed' ? [...new Set(policy.delaysMs)] : []
}
