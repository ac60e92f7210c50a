import pRetry, { AbortError } from 'p-retry'

export interface CardProviderClientOptions {
  /** CARD_PROVIDER_URL */
  url: string
  /** one attempt's bound: a provider that has not answered by then is asked again, with the same key */
  timeoutMs?: number
  /** further attempts after the first, with exponential backoff from minDelayMs */
  retries?: number
  minDelayMs?: number
}

export type ChargeOutcome =
  | { status: 'captured'; chargeId: string }
  | { status: 'declined'; chargeId: string; reason: string }

/** The provider did not answer (timeouts, 5xx, refused connections) after every attempt: try again later with the same key. */
export class CardProviderUnavailable extends Error {
  constructor(readonly what: string, readonly cause: unknown) {
    super(`card provider unavailable for ${what}: ${(cause as Error)?.message ?? cause}`)
    this.name = 'CardProviderUnavailable'
  }
}

/** The provider refused the request itself (a 4xx other than a decline): retrying cannot help. */
export class CardProviderRefused extends Error {
  constructor(readonly status: number, message: string) {
    super(`card provider refused the request (${status}): ${message}`)
    this.name = 'CardProviderRefused'
  }
}

interface Answer {
  status: number
  body: Record<string, any>
}

/**
 * The card provider's HTTP API as Bazaar calls it. Every charge and refund carries the caller's idempotency
 * key, so a retry after a lost answer (a timeout, a crash between the provider's answer and the caller's
 * commit) finds the same charge instead of making a second: the key is the reconciliation. Timeouts and 5xx are
 * retried here with backoff (p-retry); a decline is an answer, not a failure.
 */
export class CardProviderClient {
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly minDelayMs: number

  constructor(private readonly options: CardProviderClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 2_000
    this.retries = options.retries ?? 3
    this.minDelayMs = options.minDelayMs ?? 100
  }

  async charge(request: { idempotencyKey: string; token: string; amount: number; currency: string }): Promise<ChargeOutcome> {
    const { idempotencyKey, ...body } = request
    const answer = await this.send('POST', '/v1/charges', `charge ${idempotencyKey}`, body, idempotencyKey)
    if (answer.status === 402) return { status: 'declined', chargeId: answer.body.data?.chargeId, reason: answer.body.data?.reason ?? 'declined' }
    return { status: 'captured', chargeId: answer.body.id }
  }

  /** The charge a key made, if any: what a caller that lost the answer asks before deciding anything. */
  async findCharge(idempotencyKey: string): Promise<ChargeOutcome | undefined> {
    const answer = await this.send('GET', `/v1/charges?idempotencyKey=${encodeURIComponent(idempotencyKey)}`, `lookup ${idempotencyKey}`)
    const charge = (answer.body as unknown as Array<Record<string, any>>)[0]
    if (!charge) return undefined
    return charge.status === 'captured' ? { status: 'captured', chargeId: charge.id } : { status: 'declined', chargeId: charge.id, reason: charge.reason }
  }

  async refund(request: { idempotencyKey: string; chargeId: string }): Promise<{ refundId: string; amount: number }> {
    const answer = await this.send('POST', '/v1/refunds', `refund ${request.idempotencyKey}`, { chargeId: request.chargeId }, request.idempotencyKey)
    return { refundId: answer.body.id, amount: Number(answer.body.amount) }
  }

  private async send(method: string, path: string, what: string, body?: object, idempotencyKey?: string): Promise<Answer> {
    try {
      return await pRetry(
        async () => {
          const response = await fetch(`${this.options.url}${path}`, {
            method,
            headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
            body: body ? JSON.stringify(body) : undefined,
            signal: AbortSignal.timeout(this.timeoutMs)
          })
          const answer: Answer = { status: response.status, body: await response.json().catch(() => ({})) }
          if (response.status >= 500) throw new Error(`${response.status} ${answer.body.message ?? ''}`.trim())
          if (response.status >= 400 && response.status !== 402) throw new AbortError(new CardProviderRefused(response.status, answer.body.message ?? ''))
          return answer
        },
        { retries: this.retries, minTimeout: this.minDelayMs, factor: 2, randomize: true }
      )
    } catch (err) {
      if (err instanceof CardProviderRefused) throw err
      throw new CardProviderUnavailable(what, err)
    }
  }
}
