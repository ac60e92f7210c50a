import type { Knex } from 'knex'
import { redactUrl } from '../../shared/config/env.ts'

/**
 * A small knex pool for a CLI command, loaded only when a command needs the
 * database. Quiet: knex would print "Acquire connection error" with a stack
 * trace on stdout (breaking --json); the caller reports a failure once.
 */
export async function quietKnex(databaseUrl: string): Promise<Knex> {
  const { default: knex } = await import('knex')
  const quiet = () => {}
  return knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 5_000,
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet }
  })
}

/**
 * Runs a command's database work on a quiet pool, closed afterwards. An
 * unreachable database is one line naming the (redacted) URL.
 */
export async function withDatabase<T>(databaseUrl: string, work: (db: Knex) => Promise<T>): Promise<T> {
  const db = await quietKnex(databaseUrl)
  try {
    await db.raw('select 1').catch((err: { code?: string; message?: string }) => {
      throw new Error(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${err.code ?? err.message}); start it or set DATABASE_URL`)
    })
    return await work(db)
  } finally {
    await db.destroy()
  }
}
