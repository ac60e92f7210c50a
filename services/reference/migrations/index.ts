import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_entries',
    async up(db) {
      // One table for the three stores: a deleted entry keeps its row (value null) so its version goes on counting.
      await db.schema.createTable('entries', (t) => {
        t.string('store', 32).notNullable()
        t.string('key', 64).notNullable()
        t.integer('version').notNullable()
        t.jsonb('value').nullable()
        t.timestamp('changedAt', { useTz: true }).notNullable()
        t.primary(['store', 'key'])
      })
    }
  }
]
