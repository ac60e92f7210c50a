import type { Migration } from '../../../shared/db/migrations.ts'

/** The subscriptions service's schema: sellers' plans and every charge tried for them. */
export const migrations: Migration[] = [
  {
    name: '001_subscriptions',
    async up(db) {
      await db.schema.createTable('subscriptions', (t) => {
        t.uuid('id').primary()
        t.string('sellerId', 128).notNullable()
        t.string('plan', 16).notNullable()
        t.string('status', 16).notNullable()
        /** periods paid so far: 0 until the first charge captures */
        t.integer('period').notNullable()
        /** the price of a period when subscribed (plans.ts), kept so a later price change does not reprice it */
        t.integer('amount').notNullable()
        t.string('currency', 3).notNullable()
        /** PLAN_PERIOD when subscribed: period n ends at createdAt + n * periodMs, so lateness never drifts the dates */
        t.bigInteger('periodMs').notNullable()
        t.timestamp('currentPeriodEnd', { useTz: true }).notNullable()
        t.boolean('cancelAtPeriodEnd').notNullable().defaultTo(false)
        /** the provider's token of the seller's card; never shown */
        t.string('cardToken', 64).notNullable()
        /** why the plan is past_due */
        t.text('reason').nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.timestamp('cancelledAt', { useTz: true }).nullable()
        t.index(['sellerId', 'createdAt'])
      })
      // one live (not cancelled) plan per seller, whatever races: a second one is a 409
      await db.raw(`create unique index subscriptions_one_live_per_seller on subscriptions ("sellerId") where status <> 'cancelled'`)
      // Every charge the provider answered, by (subscription, period, attempt): its idempotency key is that triple,
      // so at most one capture per period (a declined key stays declined at the provider; the next try is a new key).
      await db.schema.createTable('charges', (t) => {
        t.uuid('subscriptionId').notNullable().references('id').inTable('subscriptions')
        t.integer('period').notNullable()
        t.integer('attempt').notNullable()
        t.string('idempotencyKey', 255).notNullable().unique()
        t.string('chargeId', 128).nullable()
        t.string('status', 16).notNullable()
        t.text('reason').nullable()
        t.integer('amount').notNullable()
        t.string('currency', 3).notNullable()
        t.timestamp('at', { useTz: true }).notNullable()
        t.primary(['subscriptionId', 'period', 'attempt'])
      })
      // a period is paid once: a second capture for it cannot be recorded
      await db.raw(`create unique index charges_one_capture_per_period on charges ("subscriptionId", period) where status = 'captured'`)
    }
  }
]
