import { Conflict } from '@feathersjs/errors'
import type { Knex } from 'knex'

/** The one projection this service keeps (the CLI names it). */
export const STOREFRONT = 'storefront'

export type ProjectionState = 'building' | 'live' | 'retired' | 'failed'

/** A version of a projection and how far it has read the log. */
export interface ProjectionVersion {
  name: string
  version: number
  state: ProjectionState
  /** offset of the last log entry applied; -1 before the first */
  position: number
  positionAt: Date | null
  skipped: number
  reason: string | null
  createdAt: Date
  updatedAt: Date
  liveAt: Date | null
}

/** The NOTIFY channel on which a rebuild request or a swap wakes every instance. */
export const projectionsChannel = (schema: string) => `${schema}_projections`

const projections = (db: Knex | Knex.Transaction, schema: string) => db.withSchema(schema).table('projections')

function fromRow(row: Record<string, unknown>): ProjectionVersion {
  return { ...(row as unknown as ProjectionVersion), position: Number(row.position) }
}

/** On the very first start: version 1, live, reading from the start of the log. */
export async function ensureLiveVersion(db: Knex, schema: string): Promise<void> {
  const any = await projections(db, schema).where({ name: STOREFRONT }).first('version')
  if (any) return
  await projections(db, schema).insert({ name: STOREFRONT, version: 1, state: 'live', liveAt: db.fn.now() }).onConflict(['name', 'version']).ignore()
}

export async function listVersions(db: Knex, schema: string): Promise<ProjectionVersion[]> {
  const rows = await projections(db, schema).where({ name: STOREFRONT }).orderBy('version')
  return rows.map(fromRow)
}

/** Locks a version's row for the transaction that applies a batch to it. */
export async function lockVersion(trx: Knex.Transaction, schema: string, version: number): Promise<ProjectionVersion | undefined> {
  const row = await projections(trx, schema).where({ name: STOREFRONT, version }).forUpdate().first()
  return row ? fromRow(row) : undefined
}

export async function recordPosition(
  trx: Knex.Transaction,
  schema: string,
  version: number,
  change: { position: number; positionAt: Date | null; skipped: number; reason: string | null }
): Promise<void> {
  await projections(trx, schema).where({ name: STOREFRONT, version }).update({ ...change, updatedAt: trx.fn.now() })
}

export async function failVersion(trx: Knex.Transaction, schema: string, version: number, reason: string): Promise<void> {
  await projections(trx, schema).where({ name: STOREFRONT, version }).update({ state: 'failed', reason, updatedAt: trx.fn.now() })
}

/**
 * The rebuild's swap, inside the transaction that just applied a batch to
 * the building version: once it has read at least as far as the live one,
 * it becomes live and the old one retires, in one commit. A read sees one or
 * the other, never a mix, and never a position older than one it saw before.
 * `swapped` false while the build is still behind; `retired` the version it replaced.
 */
export async function swapIfCaughtUp(
  trx: Knex.Transaction,
  schema: string,
  building: ProjectionVersion
): Promise<{ swapped: boolean; retired?: number }> {
  const live = await projections(trx, schema).where({ name: STOREFRONT, state: 'live' }).forUpdate().first()
  if (live && Number(live.position) > building.position) return { swapped: false }
  if (live) await projections(trx, schema).where({ name: STOREFRONT, version: live.version }).update({ state: 'retired', updatedAt: trx.fn.now() })
  await projections(trx, schema).where({ name: STOREFRONT, version: building.version }).update({ state: 'live', liveAt: trx.fn.now(), updatedAt: trx.fn.now() })
  return { swapped: true, retired: live?.version }
}

/**
 * Asks for a rebuild: a new version, building, from offset 0. Refused while
 * one is building (a unique index, so two operators at once get one each).
 */
export async function requestRebuild(db: Knex, schema: string): Promise<ProjectionVersion> {
  return db.transaction(async (trx) => {
    const building = await projections(trx, schema).where({ name: STOREFRONT, state: 'building' }).first('version')
    if (building) throw new Conflict(`a rebuild of ${STOREFRONT} is already running (version ${building.version})`)
    const { max } = (await projections(trx, schema).where({ name: STOREFRONT }).max('version as max').first()) as { max: number | null }
    const [row] = await projections(trx, schema)
      .insert({ name: STOREFRONT, version: (max ?? 0) + 1, state: 'building' })
      .returning('*')
      .catch((err: { code?: string }) => {
        if (err.code === '23505') throw new Conflict(`a rebuild of ${STOREFRONT} is already running`)
        throw err
      })
    await trx.raw('select pg_notify(?, ?)', [projectionsChannel(schema), 'rebuild'])
    return fromRow(row)
  })
}

/** The rows of a version no read can reach any more (retired or failed). */
export async function removeVersionRows(db: Knex, schema: string, version: number): Promise<void> {
  for (const name of ['storefront_products', 'storefront_orders', 'storefronts']) {
    await db.withSchema(schema).table(name).where({ version }).delete()
  }
}
