import type { Knex } from 'knex'
import { redactUrl } from '../../shared/config/env.ts'

/**
 * A one-connection knex pool for a command's database work, closed afterwards.
 * An unreachable database is one line naming the (redacted) URL; knex itself
 * stays quiet, so `--json` output is never broken by its log lines.
 */
export async function withDatabase<T>(databaseUrl: string, work: (db: Knex) => Promise<T>): Promise<T> {
  // Loaded on use: most commands never touch the database.
  const { default: knex } = await import('knex')
  // Knex would print "Acquire connection error" with a stack trace on stdout (breaking --json); the failure is reported once, below.
  const quiet = () => {}
  const db = knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 5_000,
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet }
  })
  try {
    await db.raw('select 1').catch((err: { code?: string; message?: string }) => {
      throw new Error(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${err.code ?? err.message}); start it or set DATABASE_URL`)
    })
    return await work(db)
  } finally {
    await db.destroy()
  }
}
