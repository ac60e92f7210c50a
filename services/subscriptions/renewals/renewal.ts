import { Type, type Static } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import type { CardProviderClient } from '../../../shared/cards/card-provider-client.ts'
import { SUBSCRIPTION_CANCELLED, SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_RENEWED } from '../../../shared/contracts/checkout.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'
import { chargesTable, periodEnd, subscriptionEvent, subscriptionsTable, type SubscriptionRow } from '../subscription-row.ts'

/**
 * The delayed job that charges one period of one subscription: period 1 at once (scheduled in the
 * transaction that creates the subscription), period n + 1 at period n's end (scheduled in the
 * transaction that recorded period n's capture). Keyed by (subscription, period, attempt).
 */
export const SUBSCRIPTION_RENEWAL = 'subscription-renewal'

const renewalPayload = Type.Object(
  {
    subscriptionId: Type.String({ format: 'uuid' }),
    /** the period this charges: 1 for the first */
    period: Type.Integer({ minimum: 1 }),
    /** 1 for the period's first card charge, + 1 after each decline (RENEWAL_RETRY_DELAYS) */
    attempt: Type.Integer({ minimum: 1 })
  },
  { additionalProperties: false }
)
type RenewalPayload = Static<typeof renewalPayload>

/** The provider's idempotency key of one try of one period: a re-run of that try finds its charge instead of making another. */
export const chargeKey = ({ subscriptionId, period, attempt }: RenewalPayload) => `subscription:${subscriptionId}:period:${period}:attempt:${attempt}`

/** Schedules a charge of a period in the caller's transaction (it exists iff that commits). */
export async function scheduleRenewal(app: ServiceApp, trx: Knex.Transaction, payload: RenewalPayload, runAt: Date | { delayMs: number }): Promise<void> {
  const key = `${payload.subscriptionId}:${payload.period}:${payload.attempt}`
  await app.get('jobs').schedule(trx, SUBSCRIPTION_RENEWAL, { key, runAt, payload, onConflict: 'keep' })
}

/**
 * Per seller in order, without a partition: a seller has one live subscription, and its period n + 1 is
 * scheduled only by the commit that recorded period n's capture, so it cannot run before (or beside) it;
 * a declined try schedules the next try of the same period, never the next period. Other sellers'
 * renewals are other rows, claimed by any runner's workers in parallel, and a failing card waits in its
 * own row (RENEWAL_RETRY_DELAYS) without holding anyone up.
 *
 * Exactly once: the job's writes (the charge record, the period moved on, the next job, the event) commit
 * with the job's completion, and the provider's idempotency key is the job's (subscription, period,
 * attempt), so a re-run after a crash, a lost answer or a batch retried finds the charge already made. A
 * decline is an answer the provider repeats for its key, so the next try of the period uses the next
 * attempt's key; a capture ends the period's tries, hence at most one capture per period (also a unique
 * index). A provider that does not answer throws: the job retries the same key after the job's delays
 * (RENEWAL_RETRY_DELAYS), then is `failed` for an operator (`bazaar jobs run-now`): not knowing whether
 * the card was charged, it must not call the seller past due.
 */
export function renewals(app: ServiceApp, provider: CardProviderClient): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  const { renewalRetryDelaysMs } = serviceConfig(app, 'subscriptions')

  app.get('jobs').define(SUBSCRIPTION_RENEWAL, {
    payload: renewalPayload,
    retry: { delaysMs: renewalRetryDelaysMs },
    handler: async (job, trx) => {
      const { subscriptionId, period, attempt } = job.payload
      const subscriptions = () => trx.withSchema(schema).table(subscriptionsTable)
      const sub: SubscriptionRow | undefined = await subscriptions().where({ id: subscriptionId }).forUpdate().first()
      // cancelled, past due, or this period is paid already: nothing is owed
      if (!sub || sub.status !== 'active' || sub.period !== period - 1) return
      const at = isoTimestamp()

      if (sub.cancelAtPeriodEnd && period > 1) {
        const [cancelled] = await subscriptions().where({ id: sub.id }).update({ status: 'cancelled', cancelledAt: at }).returning('*')
        await writeOutbox(trx, identity, SUBSCRIPTION_CANCELLED, subscriptionEvent(cancelled, at))
        return
      }

      const idempotencyKey = chargeKey(job.payload)
      // throws when the provider does not answer: the job is retried with this same key
      const outcome = await provider.charge({ idempotencyKey, token: sub.cardToken, amount: sub.amount, currency: sub.currency })
      await trx.withSchema(schema).table(chargesTable).insert({
        subscriptionId, period, attempt, idempotencyKey,
        chargeId: outcome.chargeId ?? null,
        status: outcome.status,
        reason: outcome.status === 'declined' ? outcome.reason : null,
        amount: sub.amount,
        currency: sub.currency,
        at
      })

      if (outcome.status === 'captured') {
        const currentPeriodEnd = periodEnd(sub, period)
        const [renewed] = await subscriptions().where({ id: sub.id }).update({ period, currentPeriodEnd }).returning('*')
        await writeOutbox(trx, identity, SUBSCRIPTION_RENEWED, subscriptionEvent(renewed, at))
        await scheduleRenewal(app, trx, { subscriptionId, period: period + 1, attempt: 1 }, currentPeriodEnd)
        return
      }
      const delayMs = renewalRetryDelaysMs[attempt - 1]
      if (delayMs !== undefined) {
        await scheduleRenewal(app, trx, { subscriptionId, period, attempt: attempt + 1 }, { delayMs })
        return
      }
      const reason = `card ${outcome.reason} for period ${period} after ${attempt} ${attempt === 1 ? 'try' : 'tries'}`
      const [pastDue] = await subscriptions().where({ id: sub.id }).update({ status: 'past_due', reason }).returning('*')
      await writeOutbox(trx, identity, SUBSCRIPTION_PAST_DUE, subscriptionEvent(pastDue, at, reason))
    }
  })
}
