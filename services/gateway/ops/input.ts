import { BadRequest } from '@feathersjs/errors'
import type { ReplaySelection } from '../../../shared/ops/replay.ts'
import { selectionProblem } from '../../../shared/ops/replay.ts'

const MAX_QUEUE_NAME = 255
const MAX_IDS = 1_000
const MAX_TEXT = 200

type Body = Record<string, unknown>

function object(body: unknown): Body {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('The body must be one JSON object', { body: Array.isArray(body) ? 'array' : typeof body })
  return body as Body
}

function text(value: unknown, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new BadRequest(`${field} is required`, { [field]: 'required' })
    return undefined
  }
  if (typeof value !== 'string' || value.length > max) throw new BadRequest(`${field} must be a string of at most ${max} characters`, { [field]: 'invalid' })
  return value
}

/** `queue` of a query or body: the dead-letter queue or its work queue, namespace prefix optional. */
export const queueOf = (value: unknown): string => text(value, 'queue', MAX_QUEUE_NAME, true)!

/** `?limit=`: 1 to 500, 50 when absent. */
export function limitOf(value: unknown): number {
  if (value === undefined || value === '') return 50
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new BadRequest('limit must be an integer from 1 to 500', { limit: 'invalid' })
  return n
}

/** A replay's body: `{ queue, all: true }` or `{ queue, ids?, routingKey?, error? }`, as the CLI's options. */
export function replayOf(raw: unknown): { queue: string; selection: ReplaySelection } {
  const body = object(raw)
  const queue = queueOf(body.queue)
  if (body.all !== undefined && typeof body.all !== 'boolean') throw new BadRequest('all must be true or false', { all: 'invalid' })
  let ids: string[] | undefined
  if (body.ids !== undefined) {
    if (!Array.isArray(body.ids) || body.ids.length > MAX_IDS || !body.ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= MAX_TEXT)) {
      throw new BadRequest(`ids must be a list of at most ${MAX_IDS} message ids`, { ids: 'invalid' })
    }
    ids = body.ids as string[]
  }
  const selection: ReplaySelection = {
    all: body.all === true,
    filter: { ids, routingKey: text(body.routingKey, 'routingKey', MAX_TEXT, false), error: text(body.error, 'error', MAX_TEXT, false) }
  }
  const problem = selectionProblem(selection, { all: 'all', criteria: 'ids, routingKey or error' })
  if (problem) throw new BadRequest(problem, { selection: 'invalid' })
  return { queue, selection }
}

/** A purge's body: `{ queue, confirm }`, confirm naming the dead-letter queue. */
export function purgeOf(raw: unknown): { queue: string; confirm: string } {
  const body = object(raw)
  return { queue: queueOf(body.queue), confirm: text(body.confirm, 'confirm', MAX_QUEUE_NAME, true)! }
}
