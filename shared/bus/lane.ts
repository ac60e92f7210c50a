import { Socket, type SocketConnectOpts } from 'node:net'
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
 *
 * Statements sent in one turn of the event loop leave in one socket write
 * (`CoalescingSocket`): BEGIN with the first statement, an outbox row with the
 * COMMIT, the relay's BEGIN with its claim. A write costs a system call here
 * and a read on the server's side, more than a short statement's own work.
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
    // pg's public `stream` option: the socket each connection runs on
    stream: () => new CoalescingSocket(),
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

type WriteCallback = (err?: Error | null) => void

/**
 * A socket that holds what is written to it until the end of the current
 * turn (process.nextTick: after this turn's promise callbacks, before any
 * I/O), then sends it in one write. pg already groups the messages of one
 * statement so (cork and uncork around parse, bind, execute and sync); this
 * extends it to statements sent one after the other without waiting between
 * them. Nothing waits longer than the turn that wrote it.
 */
class CoalescingSocket extends Socket {
  #held = false

  override write(chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    if (!this.#held) {
      this.#held = true
      this.cork()
      process.nextTick(() => {
        this.#held = false
        this.uncork()
      })
    }
    return typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding, callback)
  }

  override connect(...args: [SocketConnectOpts | number | string, (string | (() => void))?, (() => void)?]): this {
    Reflect.apply(Socket.prototype.connect, this, args)
    // node's connect() puts Socket.prototype.write on the instance (undoing what a destroyed socket had);
    // this socket's own write goes back on top of it
    this.write = CoalescingSocket.prototype.write
    return this
  }
}
