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
  },
  {
    name: '002_session_versions',
    async up(db) {
      // Raised whenever the user's sessions end (logout, password change): tokens signed with a lower one are revoked.
      await db.schema.alterTable('users', (t) => {
        t.integer('sessionVersion').notNullable().defaultTo(0)
      })
    }
  },
  {
    name: '003_login_attempts',
    async up(db) {
      // rate-limiter-flexible's counters (RateLimiterPostgres), shared by every users instance. Its own
      // table layout, with a text key: an account's key holds a whole email address.
      await db.schema.createTable('login_attempts', (t) => {
        t.text('key').primary()
        t.integer('points').notNullable().defaultTo(0)
        t.bigInteger('expire')
      })
    }
  },
  {
    name: '004_time_zones',
    async up(db) {
      // Every account starts in UTC until its user says otherwise (PATCH /users/:id { timeZone }).
      await db.schema.alterTable('users', (t) => {
        t.string('timeZone', 64).notNullable().defaultTo('UTC')
      })
    }
  },
  {
    name: '005_account_versions',
    async up(db) {
      // One more with every change of the row, in the UPDATE itself: user.* events carry it, so projections keep the newest.
      await db.schema.alterTable('users', (t) => {
        t.integer('version').notNullable().defaultTo(1)
      })
    }
  }
]
