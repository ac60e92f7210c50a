import type { Knex } from 'knex'
import { redactUrl } from '../../shared/config/env.ts'
import { CliError } from './errors.ts'

/**
 * Runs `work` with a one-connection pool on the deployment's database,
 * closed afterwards. Knex stays quiet (it would print "Acquire connection
 * error" with a stack trace on stdout and break --json): an unreachable
 * database is one line, naming the URL without its password.
 */
export async function withDatabase<T>(databaseUrl: string, work: (db: Knex) => Promise<T>): Promise<T> {
  // Loaded here, not at start: only some commands need the database.
  const { default: knex } = await import('knex')
  const quiet = () => {}
  const db = knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5_000,
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet }
  })
  try {
    return await work(db)
  } catch (err) {
    if (err instanceof CliError || !isConnectionFailure(err)) throw err
    const cause = (err as { code?: string }).code ?? (err as Error).message
    throw new CliError(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${cause}); start it or set DATABASE_URL`)
  } finally {
    await db.destroy()
  }
}

function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return (err as Error).name === 'KnexTimeoutError' || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01' || code === '28000'
}
