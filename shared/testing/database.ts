import knex from 'knex'
import { readEnv } from '../config/env.ts'

/** Drops every schema of a test namespace (`<namespace>_*`). */
export async function dropNamespaceSchemas(namespace: string, databaseUrl = readEnv().databaseUrl): Promise<void> {
  const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
  try {
    const { rows } = await db.raw<{ rows: Array<{ nspname: string }> }>(
      "select nspname from pg_namespace where nspname like ? escape '\\'",
      [`${namespace.replace(/_/g, '\\_')}\\_%`]
    )
    for (const { nspname } of rows) await db.raw('drop schema if exists ?? cascade', [nspname])
  } finally {
    await db.destroy()
  }
}
