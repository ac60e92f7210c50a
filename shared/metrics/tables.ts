import type { Knex } from 'knex'
import { Gauge, type Registry } from 'prom-client'
import type { Logger } from '../log/logger.ts'
import { ident } from '../bus/sql.ts'

/** Past this many rows the backlog reads as this many: a scrape must stay cheap when the relay is far behind. */
export const BACKLOG_COUNT_CAP = 100_000

/**
 * The outbox backlog, the age of its oldest row and the keys parked per consumer, read from this
 * service's schema when Prometheus scrapes (one statement), not kept up to date on every write.
 * The outbox is nearly always empty, and the oldest row is found through the primary key (rows are
 * relayed in id order); the count is capped. A database that does not answer leaves the last values
 * and says so in a debug line: the rest of the scrape still answers.
 */
export function tableGauges(registry: Registry, options: { db: Knex; schema: string; logger?: Logger }): void {
  const schema = ident(options.schema)
  const statement = `select
      (select count(*) from (select 1 from ${schema}.outbox limit ${BACKLOG_COUNT_CAP}) capped)::int as backlog,
      (select extract(epoch from clock_timestamp() - created_at) from ${schema}.outbox order by id limit 1)::float8 as oldest,
      (select coalesce(json_object_agg(consumer, n), '{}') from (select consumer, count(*)::int as n from ${schema}.parked_keys group by consumer) p) as parked`
  let reading: Promise<void> | undefined
  const registers = [registry]
  const backlog = new Gauge({
    name: 'bazaar_outbox_backlog',
    help: `Outbox rows not yet relayed to the broker (read at scrape; at most ${BACKLOG_COUNT_CAP})`,
    registers,
    collect: () => read()
  })
  const oldest = new Gauge({
    name: 'bazaar_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row not yet relayed; 0 when the outbox is empty',
    registers,
    collect: () => read()
  })
  const parked = new Gauge({
    name: 'bazaar_parked_keys',
    help: 'Keys a partitioned consumer has parked now (their messages wait behind the failing one)',
    labelNames: ['queue'],
    registers,
    collect: () => read()
  })
  // The three gauges' collect() run together at each scrape and share one read.
  const read = (): Promise<void> => {
    reading ??= options.db
      .raw<{ rows: Array<{ backlog: number; oldest: number | null; parked: Record<string, number> }> }>(statement)
      .then(({ rows: [row] }) => {
        backlog.set(row?.backlog ?? 0)
        oldest.set(row?.oldest ?? 0)
        parked.reset()
        for (const [queue, count] of Object.entries(row?.parked ?? {})) parked.labels(queue).set(count)
      })
      .catch((err: Error) => options.logger?.debug({ err: err.message }, 'metrics: could not read the outbox and parked keys'))
      .finally(() => setImmediate(() => (reading = undefined)))
    return reading
  }
}
