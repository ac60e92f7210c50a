/**
 * A PostgreSQL primary and its streaming standby, for the cluster chaos profile: the machine's
 * PostgreSQL 15 binaries, run as the `postgres` user (initdb refuses root), each server on its own
 * port with its data directory under the run's temp dir. The standby is a `pg_basebackup -R` of the
 * primary; replication is synchronous (what CloudNativePG's `minSyncReplicas` gives), so a commit the
 * primary acknowledged is on the standby and survives the primary's crash.
 */
import { execFile } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from '../../shared/testing/wait.ts'
import type { OrphanGuard } from './guard.ts'

const run = promisify(execFile)
const bin = process.env.PG_BIN || '/usr/lib/postgresql/15/bin'

export interface PgServer {
  role: 'primary' | 'standby'
  port: number
  dataDir: string
  pid?: number
}

export class PgPair {
  readonly primary: PgServer
  readonly standby: PgServer
  private readonly asRoot = process.getuid?.() === 0

  constructor(private readonly dir: string, basePort: number, private readonly guard: OrphanGuard) {
    this.primary = { role: 'primary', port: basePort, dataDir: join(dir, 'primary') }
    this.standby = { role: 'standby', port: basePort + 1, dataDir: join(dir, 'standby') }
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    if (this.asRoot) {
      const { uid, gid } = await this.postgresIds()
      chownSync(this.dir, uid, gid)
    }
    await this.as(join(bin, 'initdb'), '-D', this.primary.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8')
    appendFileSync(join(this.primary.dataDir, 'postgresql.conf'), [
      '',
      `port = ${this.primary.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${this.dir}'`,
      // two instances of every service, each with its pools and LISTEN connections
      'max_connections = 600',
      'wal_level = replica',
      'max_wal_senders = 4',
      'hot_standby = on',
      // a commit returns once the standby has it: the failover loses nothing acknowledged
      "synchronous_standby_names = '*'",
      ''
    ].join('\n'))
    await this.startServer(this.primary)
    await this.as(join(bin, 'pg_basebackup'), '-h', '127.0.0.1', '-p', String(this.primary.port), '-U', 'postgres', '-D', this.standby.dataDir, '-R', '-X', 'stream', '-c', 'fast')
    appendFileSync(join(this.standby.dataDir, 'postgresql.conf'), [
      '',
      `port = ${this.standby.port}`,
      // once promoted it has no standby of its own to wait for
      "synchronous_standby_names = ''",
      ''
    ].join('\n'))
    await this.startServer(this.standby)
    await waitFor(async () => (await this.sql(this.primary, "select count(*) from pg_stat_replication where state = 'streaming' and sync_state = 'sync'")) === '1',
      { timeoutMs: 60_000, intervalMs: 500, what: 'the standby to stream synchronously' })
  }

  /** The primary crashes (immediate stop, as a lost machine) and the standby is promoted: the failover. */
  async failover(): Promise<void> {
    await this.stopServer(this.primary, 'immediate')
    await this.as(join(bin, 'pg_ctl'), '-D', this.standby.dataDir, 'promote', '-w', '-t', '60')
    await waitFor(async () => (await this.sql(this.standby, 'select pg_is_in_recovery()')) === 'f', { timeoutMs: 60_000, intervalMs: 250, what: 'the standby to be promoted' })
  }

  async stop(): Promise<void> {
    for (const server of [this.standby, this.primary]) await this.stopServer(server, 'immediate').catch(() => {})
  }

  /** One value from psql, against one server. */
  async sql(server: PgServer, query: string): Promise<string> {
    const { stdout } = await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-Atc', query], { timeout: 15_000 })
    return stdout.trim()
  }

  private async startServer(server: PgServer): Promise<void> {
    await this.as(join(bin, 'pg_ctl'), '-D', server.dataDir, '-l', join(this.dir, `${server.role}.log`), '-w', '-t', '120', 'start')
    server.pid = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends with it
    this.guard.killOnExit(server.pid, 'SIGQUIT')
  }

  private async stopServer(server: PgServer, mode: 'fast' | 'immediate'): Promise<void> {
    if (!server.pid || !existsSync(join(server.dataDir, 'postmaster.pid'))) return
    await this.as(join(bin, 'pg_ctl'), '-D', server.dataDir, '-m', mode, '-w', '-t', '60', 'stop')
    this.guard.forget(server.pid)
    server.pid = undefined
  }

  /** Runs a PostgreSQL tool as the postgres user when this process is root. */
  private as(command: string, ...args: string[]): Promise<unknown> {
    if (!this.asRoot) return run(command, args, { timeout: 180_000 })
    return run('runuser', ['-u', 'postgres', '--', command, ...args], { timeout: 180_000, cwd: '/' })
  }

  private async postgresIds(): Promise<{ uid: number; gid: number }> {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])])
    return { uid: Number(uid), gid: Number(gid) }
  }
}
