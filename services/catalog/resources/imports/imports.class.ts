import { randomUUID } from 'node:crypto'
import { BadRequest, Forbidden, NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { Knex } from 'knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { isUuid } from '../../../../shared/feathers/validation.ts'
import { scheduleImportDeadline } from '../../imports/deadline.ts'
import { finishImport, type ImportRecord } from '../../imports/finish.ts'
import { aggregationsOf, IMPORT_DEADLINE, IMPORT_ITERATION } from '../../imports/identity.ts'
import type { Import } from './imports.schema.ts'
import { stageBlocks } from '../../imports/blocks.ts'
import { parseUpload } from './upload.ts'

export type ImportParams = Params

/** The method's transaction (transactional() around remove). */
function transactionOf(params: ImportParams): Knex.Transaction {
  const trx = params.transaction?.trx
  if (!trx) throw new Error('imports: remove runs inside transactional()')
  return trx
}

/**
 * `/imports`: an upload is parsed, then staged in one short transaction with
 * the import's aggregation, its iterator job and its deadline, so it is
 * accepted whole or not at all; the work then runs on the iterator and the
 * chunk queue (services/catalog/imports/). Reading joins the import with its
 * counters; removing cancels.
 */
export class ImportService {
  constructor(private readonly app: ServiceApp) {}

  private get schema() {
    return this.app.get('schema')
  }

  /**
   * The body is read and parsed first, with no connection held; then one short
   * transaction stages the rows and creates the import, its aggregation, its
   * iterator job and its deadline: a refused upload (or a failure on the way)
   * leaves nothing behind.
   */
  async create(_data: unknown, params: ImportParams): Promise<Pick<Import, 'id' | 'status'>> {
    if (!params.upload) throw new BadRequest('The body must be text/csv', { body: 'expected Content-Type text/csv' })
    const rows = await parseUpload(params.upload)
    const id = randomUUID()
    const caller = params.caller!
    await this.app.get('db').transaction(async (trx) => {
      const record: ImportRecord = await trx.withSchema(this.schema).table('imports')
        .insert({ id, sellerId: caller.id, sellerEmail: caller.email ?? null, status: 'accepted', total: rows.length, createdAt: isoTimestamp() })
        .returning('*').then((inserted) => inserted[0])
      await stageBlocks(trx, this.schema, id, rows)
      await this.accept(trx, record)
    })
    return { id, status: 'accepted' }
  }

  /** The import's aggregation, iterator job and deadline (or, an empty file, its completion), in the upload's transaction. */
  private async accept(trx: Knex.Transaction, record: ImportRecord): Promise<void> {
    const { id, total } = record
    const config = serviceConfig(this.app, 'catalog')
    const items = Math.ceil(total / config.importChunkRows)
    const counts = await aggregationsOf(this.app).create(trx, { id, items, total, policy: 'continue', deadlineMs: config.importDeadlineMs })
    if (items === 0) {
      await finishImport(this.app, trx, record, counts) // an empty file is complete at once: still one notice and one email
    } else {
      await this.app.get('iterator')!.start(trx, IMPORT_ITERATION, id, 1)
      await scheduleImportDeadline(this.app, trx, id)
    }
  }

  async get(id: unknown, params: ImportParams): Promise<Import> {
    return this.view(this.app.get('db'), await this.owned(this.app.get('db'), id, params))
  }

  /**
   * Cancels: the aggregation, the iterator job and the import close in one
   * transaction; a chunk in flight then fails its count and rolls back. Rows
   * are locked in the order every writer of the import uses (aggregation,
   * iteration, import), so a cancel racing the last chunk cannot deadlock.
   */
  async remove(id: unknown, params: ImportParams): Promise<Import> {
    const trx = transactionOf(params)
    const record = await this.owned(trx, id, params)
    // undefined when already closed (completed, or cancelled before): nothing changes then
    if (await aggregationsOf(this.app).close(trx, record.id, 'cancelled')) {
      await this.app.get('iterator')!.cancel(trx, record.id)
      await trx.withSchema(this.schema).table('imports').where({ id: record.id }).whereIn('status', ['accepted', 'running'])
        .update({ status: 'cancelled', completedAt: trx.raw('clock_timestamp()') })
      await this.app.get('jobs').cancel(trx, IMPORT_DEADLINE, record.id)
    }
    return this.view(trx, await trx.withSchema(this.schema).table('imports').where({ id: record.id }).first())
  }

  /** The caller's import: 404 for an id that names none, 403 for another seller's. */
  async owned(db: Knex | Knex.Transaction, id: unknown, params: ImportParams): Promise<ImportRecord> {
    if (!isUuid(id)) throw new NotFound(`No record found for id '${String(id)}'`)
    const record: ImportRecord | undefined = await db.withSchema(this.schema).table('imports').where({ id }).first()
    if (!record) throw new NotFound(`No record found for id '${id}'`)
    if (record.sellerId !== params.caller?.id) throw new Forbidden('Only the seller who uploaded an import may see or cancel it')
    return record
  }

  private async view(db: Knex | Knex.Transaction, record: ImportRecord): Promise<Import> {
    const counts = await aggregationsOf(this.app).get(db, record.id)
    return {
      id: record.id,
      status: record.status,
      total: record.total,
      done: counts?.done ?? 0,
      failed: counts?.failed ?? 0,
      createdAt: isoTimestamp(record.createdAt),
      completedAt: record.completedAt ? isoTimestamp(record.completedAt) : null
    }
  }
}
