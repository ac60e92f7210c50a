import type { Knex } from 'knex'

/** A migration as code: listed explicitly, so no directory scanning under ESM. */
export interface Migration {
  name: string
  up(db: Knex): Promise<void>
  down?(db: Knex): Promise<void>
}

class ListSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly list: Migration[]) {}
  async getMigrations() { return this.list }
  getMigrationName(migration: Migration) { return migration.name }
  async getMigration(migration: Migration) {
    return { up: migration.up, down: migration.down ?? (async () => {}) }
  }
}

/** Creates the schema if needed and runs the migrations not yet applied in it. */
export async function migrate(db: Knex, schema: string, migrations: Migration[]): Promise<void> {
  await db.raw('create schema if not exists ??', [schema]).catch((err: { code?: string }) => {
    if (err.code !== '23505' && err.code !== '42P06') throw err // a concurrent start created it
  })
  await db.migrate.latest({
    migrationSource: new ListSource(migrations),
    schemaName: schema,
    tableName: 'knex_migrations',
    disableMigrationsListValidation: true
  })
}

/** Drops a schema and everything in it (tests). */
export async function dropSchema(db: Knex, schema: string): Promise<void> {
  await db.raw('drop schema if exists ?? cascade', [schema])
}
