import type { Knex } from 'knex'
import type { Migration } from '../../shared/db/migrations.ts'

/** A charge as the provider records it, under the caller's idempotency key. */
export interface Charge {
  id: string
  idempotencyKey: string
  token: string
  amount: number
  currency: string
  status: 'captured' | 'declined'
  reason: string | null
  createdAt: string
}

export interface Refund {
  id: string
  idempotencyKey: string
  chargeId: string
  amount: number
  createdAt: string
}

/**
 * The provider's own books: charges and refunds, each unique by the caller's idempotency key, one refund per
 * charge at most, and how often each key was tried (tok_flaky fails its first attempts). Whatever the caller
 * does, a key names one charge: this is the ledger the chaos run counts double captures from.
 */
export const ledgerMigrations: Migration[] = [
  {
    name: '001_ledger',
    async up(db) {
      await db.schema.createTable('charges', (t) => {
        t.uuid('id').primary()
        t.string('idempotencyKey', 255).notNullable().unique()
        t.string('token', 64).notNullable()
        t.bigInteger('amount').notNullable()
        t.string('currency', 3).notNullable()
        t.string('status', 16).notNullable()
        t.string('reason', 64).nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable().defaultTo(db.fn.now())
      })
      await db.schema.createTable('refunds', (t) => {
        t.uuid('id').primary()
        t.string('idempotencyKey', 255).notNullable().unique()
        t.uuid('chargeId').notNullable().unique().references('id').inTable('charges')
        t.bigInteger('amount').notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable().defaultTo(db.fn.now())
      })
      await db.schema.createTable('attempts', (t) => {
        t.string('idempotencyKey', 255).primary()
        t.integer('count').notNullable()
      })
    }
  }
]

const asCharge = (row: Record<string, unknown>): Charge => ({ ...(row as unknown as Charge), amount: Number(row.amount), createdAt: new Date(row.createdAt as string).toISOString() })
const asRefund = (row: Record<string, unknown>): Refund => ({ ...(row as unknown as Refund), amount: Number(row.amount), createdAt: new Date(row.createdAt as string).toISOString() })

export class Ledger {
  constructor(private readonly db: Knex) {}

  async chargeByKey(idempotencyKey: string): Promise<Charge | undefined> {
    const row = await this.db.table('charges').where({ idempotencyKey }).first()
    return row && asCharge(row)
  }

  async chargeById(id: string): Promise<Charge | undefined> {
    const row = await this.db.table('charges').where({ id }).first()
    return row && asCharge(row)
  }

  /** Records a charge unless its key already names one; either way returns the key's charge. */
  async recordCharge(charge: Omit<Charge, 'createdAt'>): Promise<Charge> {
    await this.db.table('charges').insert(charge).onConflict('idempotencyKey').ignore()
    return (await this.chargeByKey(charge.idempotencyKey))!
  }

  /** How many times this key has now been tried, this attempt included. */
  async attempt(idempotencyKey: string): Promise<number> {
    const [row] = await this.db.table('attempts').insert({ idempotencyKey, count: 1 })
      .onConflict('idempotencyKey').merge({ count: this.db.raw('attempts.count + 1') }).returning('count')
    return Number(row.count)
  }

  async refundOf(chargeId: string): Promise<Refund | undefined> {
    const row = await this.db.table('refunds').where({ chargeId }).first()
    return row && asRefund(row)
  }

  /** Records the charge's one refund (a second request, whatever its key, gets the first). */
  async recordRefund(refund: Omit<Refund, 'createdAt'>): Promise<Refund> {
    await this.db.table('refunds').insert(refund).onConflict().ignore()
    return (await this.refundOf(refund.chargeId))!
  }

  /** Every charge and refund, oldest first: what the chaos run reconciles against. */
  async statement(): Promise<{ charges: Charge[]; refunds: Refund[] }> {
    const charges = (await this.db.table('charges').orderBy('createdAt')).map(asCharge)
    const refunds = (await this.db.table('refunds').orderBy('createdAt')).map(asRefund)
    return { charges, refunds }
  }
}
