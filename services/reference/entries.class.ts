import { NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { ident, statementName, type SqlTransaction } from '../../shared/bus/sql.ts'

/** An entry as the API shows it: the entry itself and its version (read-your-writes: `get(key, { atLeastVersion })`). */
export type Versioned<V> = V & { version: number }

/** One of the reference stores: its name in the `entries` table and the field its key is. */
export interface StoreOf<V> {
  store: 'countries' | 'currencies' | 'flags'
  keyField: keyof V & string
}

/**
 * The entries of one store: read by anyone, upserted and removed by admins.
 * Every write gives the key the next version (a deletion too, which keeps the
 * row as a tombstone), in the method's transaction, with the row locked, so
 * the versions of a key are 1, 2, 3, ... in commit order.
 */
export class ReferenceEntryService<V extends Record<string, unknown>> {
  constructor(
    private readonly app: ServiceApp,
    private readonly of: StoreOf<V>
  ) {}

  private table(params?: Params): Knex.QueryBuilder {
    const db = params?.transaction?.trx ?? this.app.get('db')
    return db.withSchema(this.app.get('schema')).table('entries')
  }

  async find(params?: Params): Promise<Array<Versioned<V>>> {
    const rows = await this.table(params).where({ store: this.of.store }).whereNotNull('value').orderBy('key')
    return rows.map((row: { value: V; version: number }) => ({ ...row.value, version: row.version }))
  }

  async get(key: string, params?: Params): Promise<Versioned<V>> {
    const row = await this.table(params).where({ store: this.of.store, key }).whereNotNull('value').first()
    if (!row) throw new NotFound(`No ${this.of.keyField} '${key}' in ${this.of.store}`)
    return { ...row.value, version: row.version }
  }

  /** Upserts the whole entry (its key from the path); the result is the entry with its new version. */
  async update(key: string, data: V, params?: Params): Promise<Versioned<V>> {
    const value = { ...data, [this.of.keyField]: key } as V
    return { ...value, version: await this.write(key, value, params) }
  }

  /** Removes the entry, leaving a tombstone with the next version; the result is the entry as it was, with that version. */
  async remove(key: string, params?: Params): Promise<Versioned<V>> {
    const tx = params?.sqlTransaction
    const current = tx
      ? (await tx.query<{ value: V | null }>(this.sql().lock.text, [this.of.store, key], this.sql().lock.name)).rows[0]
      : await this.table(params).where({ store: this.of.store, key }).forUpdate().first()
    if (!current || current.value === null) throw new NotFound(`No ${this.of.keyField} '${key}' in ${this.of.store}`)
    return { ...(current.value as V), version: await this.write(key, null, params) }
  }

  /** Writes the key's next version (1 for a new key; the upsert locks the row), answering it. */
  private async write(key: string, value: V | null, params?: Params): Promise<number> {
    const json = value === null ? null : JSON.stringify(value)
    const tx = params?.sqlTransaction
    if (tx) return this.writeIn(tx, key, json)
    const [row] = await this.table(params)
      .insert({ store: this.of.store, key, version: 1, value: json, changedAt: new Date() })
      .onConflict(['store', 'key'])
      .merge({ version: this.app.get('db').raw('?? + 1', ['entries.version']), value: json, changedAt: new Date() })
      .returning(['version'])
    return row.version
  }

  /** The same upsert as plain SQL in a sqlTransaction (sqlTransactional()): prepared once per connection, no builder. */
  private async writeIn(tx: SqlTransaction, key: string, json: string | null): Promise<number> {
    const { upsert } = this.sql()
    const { rows } = await tx.query<{ version: number }>(upsert.text, [this.of.store, key, json, new Date()], upsert.name)
    return rows[0]!.version
  }

  private statements?: { upsert: { name: string; text: string }; lock: { name: string; text: string } }

  /** The statements of the plain-SQL path, for this app's schema. */
  private sql() {
    if (!this.statements) {
      const schema = this.app.get('schema')
      const entries = `${ident(schema)}.entries`
      this.statements = {
        upsert: {
          name: statementName('reference_upsert', schema),
          text: `insert into ${entries} as e (store, key, version, value, "changedAt") values ($1, $2, 1, $3, $4)
                 on conflict (store, key) do update set version = e.version + 1, value = excluded.value, "changedAt" = excluded."changedAt"
                 returning version`
        },
        lock: { name: statementName('reference_lock', schema), text: `select value from ${entries} where store = $1 and key = $2 for update` }
      }
    }
    return this.statements
  }
}
