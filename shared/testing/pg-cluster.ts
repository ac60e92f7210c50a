import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

export interface PgClusterOptions {
  /** where initdb, pg_ctl and postgres are (default PostgreSQL 15's Debian path, or PG_BIN) */
  binDir?: string
  /** default: a free port */
  port?: number
  /** the operating-system user the server runs as when this process is root (default postgres) */
  osUser?: string
}

/**
 * A PostgreSQL cluster of a test's own, in a temporary directory on its own
 * port: initdb, start, stop, restart (also a crash-like immediate stop) and
 * removal, so a test can take PostgreSQL away without touching the machine's
 * server. PostgreSQL refuses to run as root: when this process is root, the
 * commands run as `osUser` through runuser, and the directory is theirs.
 */
export class PgCluster {
  readonly dataDir: string
  private readonly binDir: string
  private readonly osUser: string
  private portNumber?: number

  constructor(private readonly options: PgClusterOptions = {}) {
    this.binDir = options.binDir ?? process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
    this.osUser = options.osUser ?? 'postgres'
    this.dataDir = mkdtempSync(join(tmpdir(), 'bazaar-pg-'))
  }

  get port(): number {
    if (this.portNumber === undefined) throw new Error('the cluster has no port before init()')
    return this.portNumber
  }

  /** A connection URL for a database of this cluster (user postgres, trust). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  /** initdb (without fsync: a test's data need not survive the machine) and a free port. */
  async init(): Promise<void> {
    if (!existsSync(join(this.binDir, 'initdb'))) throw new Error(`no initdb in ${this.binDir} (set PG_BIN)`)
    this.portNumber = this.options.port ?? (await freePort())
    if (this.asRoot) chownSync(this.dataDir, ...(await this.osIds()))
    await this.exec('initdb', ['-D', join(this.dataDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'])
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const settings = `-p ${this.port} -k ${this.dataDir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=on`
    await this.exec('pg_ctl', ['-D', join(this.dataDir, 'data'), '-l', join(this.dataDir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start'])
  }

  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery at next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.exec('pg_ctl', ['-D', join(this.dataDir, 'data'), '-m', mode, '-w', '-t', '60', 'stop'])
  }

  /** Stops (by default as a crash) and starts again on the same port and data. */
  async restart(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.stop(mode)
    await this.start()
  }

  /** Creates a database in the cluster. */
  async createDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url() })
    await client.connect()
    try {
      await client.query(`create database "${name.replace(/"/g, '""')}"`)
    } finally {
      await client.end()
    }
  }

  /** Stops the server if it runs and deletes its directory. */
  async remove(): Promise<void> {
    if (this.portNumber !== undefined && existsSync(join(this.dataDir, 'data', 'postmaster.pid'))) await this.stop('immediate').catch(() => {})
    rmSync(this.dataDir, { recursive: true, force: true })
  }

  private get asRoot(): boolean {
    return process.getuid?.() === 0
  }

  private async osIds(): Promise<[number, number]> {
    const { stdout: uid } = await run('id', ['-u', this.osUser])
    const { stdout: gid } = await run('id', ['-g', this.osUser])
    return [Number(uid.trim()), Number(gid.trim())]
  }

  private async exec(binary: string, args: string[]): Promise<void> {
    const path = join(this.binDir, binary)
    const [command, argv] = this.asRoot ? ['runuser', ['-u', this.osUser, '--', path, ...args]] : [path, args]
    try {
      await run(command, argv, { cwd: this.dataDir, timeout: 120_000 })
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string; stdout?: string }
      throw new Error(`${binary} ${args.at(-1)} failed: ${(stderr || stdout || (err as Error).message).trim().split('\n').slice(-3).join(' | ')}`)
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
