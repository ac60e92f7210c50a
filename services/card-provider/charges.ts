import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { BadRequest, Conflict, NotFound, PaymentError } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { Charge, Ledger, Refund } from './ledger.ts'

/** How the simulated provider misbehaves (contract.md "Checkout": the test tokens). */
export interface FailureInjection {
  /** how long `tok_slow` (and a `tok_flaky` attempt that times out) takes to answer */
  slowMs: number
  /** `tok_flaky`: its first attempt under a key errors, the next one captures but answers only after slowMs */
  flakyErrors: number
}

interface ChargeRequest {
  token: string
  amount: number
  currency: string
}

const idempotencyKeyOf = (params?: Params): string => {
  const key = (params?.headers as Record<string, string | undefined> | undefined)?.['idempotency-key']
  if (!key || key.length > 255) throw new BadRequest('An Idempotency-Key header (1 to 255 characters) is required', { 'Idempotency-Key': 'required' })
  return key
}

function validCharge(data: unknown): ChargeRequest {
  const body = (data ?? {}) as Record<string, unknown>
  const problems: Record<string, string> = {}
  if (typeof body.token !== 'string' || !/^tok_[a-z0-9_]{1,40}$/.test(body.token)) problems.token = 'a card token such as tok_ok'
  if (!Number.isSafeInteger(body.amount) || (body.amount as number) < 1) problems.amount = 'a positive whole number of minor units'
  if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency)) problems.currency = 'an ISO 4217 code'
  if (Object.keys(problems).length) throw new BadRequest('Invalid charge', problems)
  return { token: body.token as string, amount: body.amount as number, currency: body.currency as string }
}

/** A declined charge answers 402 with its reason; the same key keeps answering the same. */
const answer = (charge: Charge): Charge => {
  if (charge.status === 'declined') throw new PaymentError(`Card declined: ${charge.reason}`, { reason: charge.reason, chargeId: charge.id })
  return charge
}

/**
 * `POST /v1/charges` with `Idempotency-Key`: one key is one charge, whatever the caller retries. Tokens:
 * `tok_ok` captures, `tok_declined` is declined, `tok_slow` captures and answers after slowMs, `tok_flaky` errors
 * on its first attempts and then captures with a late answer (the caller times out after the charge is made and
 * must find it again by its key), any other token is declined as `invalid_card`.
 */
export class ChargesService {
  constructor(private readonly ledger: Ledger, private readonly failures: FailureInjection) {}

  async create(data: unknown, params?: Params): Promise<Charge> {
    const idempotencyKey = idempotencyKeyOf(params)
    const request = validCharge(data)
    const attempt = await this.ledger.attempt(idempotencyKey)
    const existing = await this.ledger.chargeByKey(idempotencyKey)
    if (existing) {
      if (existing.amount !== request.amount || existing.currency !== request.currency || existing.token !== request.token) {
        throw new Conflict('This Idempotency-Key was used for another charge', { 'Idempotency-Key': 'reused with other parameters' })
      }
      return answer(existing)
    }
    if (request.token === 'tok_flaky' && attempt <= this.failures.flakyErrors) throw new Error('simulated provider error')
    const declined = request.token === 'tok_declined' ? 'declined' : ['tok_ok', 'tok_slow', 'tok_flaky'].includes(request.token) ? null : 'invalid_card'
    const charge = await this.ledger.recordCharge({
      id: randomUUID(),
      idempotencyKey,
      ...request,
      status: declined ? 'declined' : 'captured',
      reason: declined
    })
    const late = request.token === 'tok_slow' || (request.token === 'tok_flaky' && attempt === this.failures.flakyErrors + 1)
    if (late) await delay(this.failures.slowMs)
    return answer(charge)
  }

  async get(id: string): Promise<Charge> {
    const charge = await this.ledger.chargeById(String(id))
    if (!charge) throw new NotFound(`No charge ${id}`)
    return charge
  }

  /** `GET /v1/charges?idempotencyKey=`: what a caller that lost an answer reconciles with. */
  async find(params?: Params): Promise<Charge[]> {
    const key = params?.query?.idempotencyKey
    if (typeof key !== 'string' || !key) throw new BadRequest('Find charges by idempotencyKey', { idempotencyKey: 'required' })
    const charge = await this.ledger.chargeByKey(key)
    return charge ? [charge] : []
  }
}

/** `POST /v1/refunds { chargeId }` with `Idempotency-Key`: a captured charge is refunded once, in full. */
export class RefundsService {
  constructor(private readonly ledger: Ledger) {}

  async create(data: unknown, params?: Params): Promise<Refund> {
    const idempotencyKey = idempotencyKeyOf(params)
    const chargeId = (data as { chargeId?: unknown } | null)?.chargeId
    if (typeof chargeId !== 'string' || !/^[0-9a-f-]{36}$/.test(chargeId)) throw new BadRequest('Invalid refund', { chargeId: 'the id of a captured charge' })
    const charge = await this.ledger.chargeById(chargeId)
    if (!charge) throw new NotFound(`No charge ${chargeId}`)
    if (charge.status !== 'captured') throw new Conflict(`Charge ${chargeId} was not captured`, { chargeId: charge.status })
    return this.ledger.recordRefund({ id: randomUUID(), idempotencyKey, chargeId, amount: charge.amount })
  }
}
