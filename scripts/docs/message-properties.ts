import { Headers } from '../../shared/bus/headers.ts'
import { eventProperties } from '../../shared/bus/message.ts'
import { code } from './markdown.ts'

/** Every header of shared/bus/headers.ts, by its key there, with its wire name. */
export function headerDocs(): Array<{ key: string; name: string }> {
  return Object.entries(Headers).map(([key, name]) => ({ key, name }))
}

export const contractHeaderMeaning: Record<string, string> = {
  [Headers.requestId]: 'the `X-Request-Id` of the HTTP request that started the work, carried through every derived event',
  [Headers.correlationId]: 'one id for a whole chain of work: the request id, else the first message id',
  [Headers.causationId]: 'the `messageId` of the message whose handling emitted this one',
  [Headers.namespace]: 'the deployment namespace (`BAZAAR_NAMESPACE`)'
}

/** What each bookkeeping header of the bus means, by its key in `Headers`. */
export const bookkeepingMeaning: Record<string, string> = {
  partition: 'on every event whose routing key has a partition key (`shared/contracts/partition-keys.ts`, e.g. `claimId` for `claim.*`): the hash slot (0 to 255) of the key; a partitioned consumer handles one key\'s events in order (docs/keyed-order.md)',
  partitionMatchPrefix: '`bazaar-slot-<slot>: true`, beside `x-bazaar-partition`: the same slot as a header the partition exchanges can match (a headers exchange ignores `x-` headers)',
  attempts: 'how many times a handler has failed on this message so far',
  originalRoutingKey: 'the routing key the message was first published with',
  originalExchange: 'the exchange the message was first published with',
  originalQueue: 'the queue the message failed in: where a replay sends it back',
  firstFailureAt: 'when a handler first failed on it (ISO time)',
  lastFailureAt: 'when a handler last failed on it (ISO time)',
  error: 'the reason of the last failure (error message)',
  errorKind: 'why it was dead-lettered: `malformed` (not JSON), `contract` (payload invalid for its routing key), `handler` (retries exhausted) or `skipped` (by an operator, `bazaar consumer skip`)',
  deadLetteredAt: 'when it was moved to the dead-letter queue (ISO time)',
  replays: 'how many times an operator has replayed it from a dead-letter queue'
}

/** What eventProperties() sets: always, and only when known (as it says when called with and without a context). */
export function messageProperties() {
  const bare = eventProperties('entity.event', {}, { appId: 'the-service', namespace: 'the-namespace' })
  const full = eventProperties('entity.event', { requestId: 'r', correlationId: 'c', causationId: 'm' }, { appId: 'the-service', namespace: 'the-namespace' })
  const describe = (key: string, value: unknown): string => {
    if (key === 'messageId') return 'a new UUID per event (unique; consumers deduplicate by it)'
    if (key === 'timestamp') return 'publish time, seconds since the epoch'
    if (value === 'entity.event') return 'the routing key'
    if (value === 'the-service') return 'the producing service'
    if (key === 'persistent' && value === true) return '`true` (delivery mode 2)'
    return code(JSON.stringify(value))
  }
  const properties = Object.entries(full)
    .filter(([key]) => key !== 'headers')
    .map(([key, value]) => ({ key, meaning: describe(key, value), always: key in bare }))
  const headers = Object.keys(full.headers).map((name) => ({
    name,
    always: name in bare.headers,
    meaning: contractHeaderMeaning[name] ?? ''
  }))
  return { properties, headers }
}
