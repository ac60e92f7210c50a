import pg from 'pg'
import { ident } from '../../shared/bus/sql.ts'
import { DEFAULT_RUNNER_SETTINGS } from '../../shared/jobs/index.ts'
import { jobStatements } from '../../shared/jobs/claim-sql.ts'
import { median } from './stats.ts'

/**
 * Where a Bazaar batch's time goes, SQL only (no handler, no Node work between statements): the runner's
 * own statements (claim, cancels look-up, complete) and the COMMIT, timed one by one on N due rows,
 * drained by `claimers` connections at once as the runner's workers drain them. Beside it, what
 * scheduling costs: one `insert` a job (what schedule() does) against one multi-row insert of the same
 * rows, in a transaction of 1,000 either way.
 */
export interface BatchAnatomy {
  claimers: number
  batchSize: number
  /** how claimed rows are finished: the runner's move to jobs_done (DELETE ... RETURNING into an INSERT), or beside it a plain DELETE (no record kept) */
  finish: 'move' | 'delete'
  batches: number
  /** SQL-only drain rate: the ceiling of the runner at these settings on this machine, now */
  jobsPerSec: number
  /** medians over the batches, ms */
  claimMs: number
  cancelsLookupMs: number
  completeMs: number
  commitMs: number
}

export interface EnqueueAnatomy {
  rows: number
  oneInsertPerJobMs: number
  oneMultiRowInsertMs: number
}

const NAME = 'bench_profile'

async function loadDueRows(pool: pg.Pool, schema: string, n: number): Promise<void> {
  await pool.query(
    `insert into ${ident(schema)}.jobs (id, name, payload, run_at, due_at)
     select gen_random_uuid(), $1, jsonb_build_object('seq', g), clock_timestamp() - interval '1 second', clock_timestamp() - interval '1 second'
     from generate_series(1, $2) g`,
    [NAME, n]
  )
}

/** Times a statement's round trip. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now()
  const result = await work()
  return { ms: performance.now() - start, result }
}

export async function batchAnatomy(
  databaseUrl: string, schema: string, n: number, claimers: number, batchSize: number, finish: 'move' | 'delete' = 'move'
): Promise<BatchAnatomy> {
  const statements = jobStatements(schema)
  const finishing = finish === 'move' ? statements.complete : { text: `delete from ${ident(schema)}.jobs where id = any($1::uuid[])` }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: claimers })
  pool.on('error', () => {})
  const spans = { claim: [] as number[], cancels: [] as number[], complete: [] as number[], commit: [] as number[] }
  try {
    await loadDueRows(pool, schema, n)
    const began = performance.now()
    const claimer = async () => {
      const client = await pool.connect()
      try {
        for (;;) {
          await client.query('begin')
          const claim = await timed(() =>
            client.query<{ id: string }>({ ...statements.claim, values: [[NAME], DEFAULT_RUNNER_SETTINGS.lookaheadMs, DEFAULT_RUNNER_SETTINGS.batchWindowMs, batchSize] })
          )
          const ids = claim.result.rows.map((r) => r.id)
          if (!ids.length) {
            await client.query('rollback')
            return
          }
          const cancels = await timed(() => client.query({ ...statements.cancelsOf, values: [ids] }))
          const complete = await timed(() => client.query({ ...finishing, values: [ids] }))
          const commit = await timed(() => client.query('commit'))
          spans.claim.push(claim.ms)
          spans.cancels.push(cancels.ms)
          spans.complete.push(complete.ms)
          spans.commit.push(commit.ms)
        }
      } finally {
        client.release()
      }
    }
    await Promise.all(Array.from({ length: claimers }, claimer))
    const seconds = (performance.now() - began) / 1000
    const r = (values: number[]) => Math.round(median(values) * 10) / 10
    return {
      claimers, batchSize, finish, batches: spans.claim.length, jobsPerSec: Math.round(n / seconds),
      claimMs: r(spans.claim), cancelsLookupMs: r(spans.cancels), completeMs: r(spans.complete), commitMs: r(spans.commit)
    }
  } finally {
    await pool.query(`delete from ${ident(schema)}.jobs where name = $1`, [NAME]).catch(() => {})
    await pool.end()
  }
}

export async function enqueueAnatomy(databaseUrl: string, schema: string, rows = 1_000): Promise<EnqueueAnatomy> {
  const client = new pg.Client({ connectionString: databaseUrl })
  client.on('error', () => {})
  await client.connect()
  const table = `${ident(schema)}.jobs`
  try {
    const one = await timed(async () => {
      await client.query('begin')
      for (let seq = 0; seq < rows; seq++) {
        await client.query(
          `insert into ${table} (id, name, payload, run_at, due_at) values (gen_random_uuid(), $1, $2::jsonb, clock_timestamp() + interval '1 hour', clock_timestamp() + interval '1 hour')`,
          [NAME, JSON.stringify({ seq })]
        )
      }
      await client.query('commit')
    })
    const multi = await timed(async () => {
      const payloads = Array.from({ length: rows }, (_, seq) => JSON.stringify({ seq }))
      await client.query('begin')
      await client.query(
        `insert into ${table} (id, name, payload, run_at, due_at)
         select gen_random_uuid(), $1, p, clock_timestamp() + interval '1 hour', clock_timestamp() + interval '1 hour' from unnest($2::jsonb[]) p`,
        [NAME, payloads]
      )
      await client.query('commit')
    })
    return { rows, oneInsertPerJobMs: Math.round(one.ms), oneMultiRowInsertMs: Math.round(multi.ms) }
  } finally {
    await client.query(`delete from ${table} where name = $1`, [NAME]).catch(() => {})
    await client.end()
  }
}
