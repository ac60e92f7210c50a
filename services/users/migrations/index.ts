import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_users',
    async up(db) {
      await db.schema.createTable('users', (t) => {
        t.uuid('id').primary()
        t.string('email', 254).notNullable().unique()
        t.string('password', 100).notNullable()
        t.string('name', 100).notNullable()
        t.string('role', 16).notNullable()
        t.string('bio', 500).nullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.timestamp('updatedAt', { useTz: true }).notNullable()
        t.timestamp('lastLoginAt', { useTz: true }).nullable()
      })
    }
  }
]
