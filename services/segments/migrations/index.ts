import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_segments',
    async up(db) {
      await db.schema.createTable('segments', (t) => {
        t.string('userId', 64).primary()
        t.string('segment', 64).notNullable().index()
      })
    }
  }
]
