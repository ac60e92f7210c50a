import { writeOutbox } from '../../shared/bus/outbox.ts'
import { COUNTRY_CHANGED, CURRENCY_CHANGED, FLAG_CHANGED } from '../../shared/contracts/reference.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../shared/feathers/timestamps.ts'
import type { ReferenceData } from '../../shared/kv/reference.ts'
import { outboxOf } from './seed.ts'

const routingKeyOf = { countries: COUNTRY_CHANGED, currencies: CURRENCY_CHANGED, flags: FLAG_CHANGED } as const

/**
 * The owner heals its stream: once its outbox is empty (everything committed
 * was published) and its own replica has caught up after that, any entry
 * whose version in the database is newer than the replica's (the stream was
 * deleted, or retention passed every snapshot by) is published again, with
 * the same version, so every replica converges. Nothing missing, nothing sent.
 */
export async function republishMissing(app: ServiceApp, data: ReferenceData): Promise<number> {
  const schema = app.get('schema')
  await outboxEmpty(app)
  await data.replica.caughtUp()
  return app.get('db').transaction(async (trx) => {
    const rows: Array<{ store: keyof typeof routingKeyOf; key: string; version: number; value: unknown; changedAt: Date }> = await trx
      .withSchema(schema)
      .table('entries')
      .select('store', 'key', 'version', 'value', 'changedAt')
    let sent = 0
    for (const row of rows) {
      if (data.replica.stores[row.store].version(row.key) >= row.version) continue
      await writeOutbox(trx, outboxOf(app), routingKeyOf[row.store], { key: row.key, version: row.version, value: row.value as never, changedAt: isoTimestamp(row.changedAt) })
      sent++
    }
    if (sent) app.get('logger').warn({ sent }, 'reference entries missing from the kv stream published again')
    return sent
  })
}

/** Waits (bounded) until this schema's outbox holds no row: every event committed so far has been published. */
async function outboxEmpty(app: ServiceApp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const row = await app.get('db').withSchema(app.get('schema')).table('outbox').first('id')
    if (!row) return
    if (Date.now() > deadline) throw new Error(`outbox of ${app.get('schema')} not empty after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
