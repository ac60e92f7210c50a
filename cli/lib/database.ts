import type { Knex } from 'knex'

/**
 * A one-connection knex for a CLI command, loaded only when a command needs
 * the database. Quiet: knex would print "Acquire connection error" with a
 * stack trace on stdout (breaking --json); the caller reports a failure once.
 */
export async function quietKnex(databaseUrl: string): Promise<Knex> {
  const { default: knex } = await import('knex')
  const quiet = () => {}
  return knex({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5_000,
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet }
  })
}
