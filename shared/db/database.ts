import knex, { type Knex } from 'knex'
import pg from 'pg'
import { redactUrl } from '../config/env.ts'

export type { Knex }

/** One service's connection pool, with its own schema first on the search path. */
export function createKnex(databaseUrl: string, schema: string, pool = { min: 0, max: 10 }): Knex {
  return knex({
    client: 'pg',
    connection: databaseUrl,
    searchPath: [schema, 'public'],
    pool: { ...pool, afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
      // An idle client can lose its server (PostgreSQL restart); without a listener that is a crash.
      conn.on('error', () => {})
      done(null, conn)
    } }
  })
}

/** The schema a service keeps its tables in: `<namespace>_<service>`. */
export function schemaName(namespace: string, service: string): string {
  return `${namespace}_${service}`.replace(/[^a-z0-9_]/g, '_')
}

/** Creates the database named in the URL if it does not exist (what `npm start` does first). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl)
  const name = decodeURIComponent(target.pathname.slice(1))
  const admin = new URL(databaseUrl)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (err) {
    throw new Error(
      `cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${(err as Error).message}); start it or set DATABASE_URL`
    )
  }
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err // another process created it first
    })
  } finally {
    await client.end()
  }
}

/** Checks the database answers; throws one clear line if not. */
export async function checkDatabase(db: Knex, databaseUrl: string): Promise<void> {
  try {
    await db.raw('select 1')
  } catch (err) {
    throw new Error(
      `cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${(err as Error).message}); start it or set DATABASE_URL`
    )
  }
}
