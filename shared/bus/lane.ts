import pg from 'pg'

/**
 * The bus's own PostgreSQL lane: a pg `Pool` the bus owns, apart from the
 * services' knex pools, for the statements the bus sends itself (the relay's
 * claims and NOTIFYs, `sqlTransaction()` writes). Its connections run in
 * node-postgres's pipeline mode (the public `pipeline` option, pg >= 8.20):
 * a statement is written without waiting for the answer to the one before,
 * so BEGIN, a claim and COMMIT cost one round trip of waiting instead of three.
 * On this kind of machine a round trip costs more than a short statement.
 *
 * Nothing else sends on a lane connection while a lane user holds it, so every
 * answer a user awaits is for a statement it sent.
 */
export type BusLane = pg.Pool

export interface BusLaneOptions {
  /** the same connection settings as the service's knex pool */
  databaseUrl: string
  /** connections at most (default 4: the relay keeps up to `batchesInFlight` batches open at once) */
  max?: number
  /** put first on the search path, as createKnex does for the service's pool */
  schema?: string
}

export function createBusLane(options: BusLaneOptions): BusLane {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: Math.max(1, options.max ?? 4),
    pipeline: true,
    ...(options.schema ? { options: `-c search_path=${searchPath(options.schema)}` } : {})
  })
  // An idle connection can lose its server (PostgreSQL restart); unhandled, that would crash the process.
  pool.on('error', () => {})
  return pool
}

/** `"schema",public` for the startup option (spaces would split the option's words). */
function searchPath(schema: string): string {
  return `"${schema.replace(/"/g, '""')}",public`
}
