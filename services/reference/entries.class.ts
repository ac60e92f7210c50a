import { NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'

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
    const current = await this.table(params).where({ store: this.of.store, key }).forUpdate().first()
    if (!current || current.value === null) throw new NotFound(`No ${this.of.keyField} '${key}' in ${this.of.store}`)
    return { ...(current.value as V), version: await this.write(key, null, params) }
  }

  /** Writes the key's next version (1 for a new key; the upsert locks the row), answering it. */
  private async write(key: string, value: V | null, params?: Params): Promise<number> {
    const json = value === null ? null : JSON.stringify(value)
    const [row] = await this.table(params)
      .insert({ store: this.of.store, key, version: 1, value: json, changedAt: new Date() })
      .onConflict(['store', 'key'])
      .merge({ version: this.app.get('db').raw('?? + 1', ['entries.version']), value: json, changedAt: new Date() })
      .returning(['version'])
    return row.version
  }
}
