import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_balances',
    async up(db) {
      await db.schema.createTable('balances', (t) => {
        t.string('userId', 64).primary()
        t.integer('points').notNullable()
        t.check('?? >= 0', ['points'], 'balances_points_not_negative')
      })
    }
  }
]
