import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_notifications',
    async up(db) {
      await db.schema.createTable('notifications', (t) => {
        t.uuid('id').primary()
        t.string('userId', 64).notNullable()
        t.string('kind', 32).notNullable()
        t.string('to', 254).notNullable()
        t.string('subject', 255).notNullable()
        t.timestamp('sentAt', { useTz: true }).notNullable()
        t.index(['userId', 'sentAt'])
      })
    }
  }
]
