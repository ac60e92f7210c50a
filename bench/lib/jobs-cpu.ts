import pg from 'pg'
import { TICK_MS, ticksByPid, ticksOf, ticksSince } from './cpu.ts'

/**
 * CPU of one measurement window, on the worker's side and on the servers': this process (the workers, as
 * nothing is enqueued while a drain is measured), the PostgreSQL backends this run opened (found by their
 * application_name, which every system's connections carry) plus the server's background processes
 * (WAL writer, checkpointer...), every PostgreSQL process (other test runs on this shared machine
 * included), and Redis.
 */
export interface JobsCpuSample {
  process: NodeJS.CpuUsage
  ours: Map<number, number>
  postgres: Map<number, number>
  redis: Map<number, number>
}

export interface JobsCpuUse {
  /** this process's CPU ms per 1,000 jobs */
  workerMsPerK: number
  /** the PostgreSQL backends of this run and the server's background processes, CPU ms per 1,000 jobs */
  postgresOursMsPerK?: number
  /** every PostgreSQL process, other helpers' test runs included */
  postgresAllMsPerK?: number
  redisMsPerK?: number
}

export class JobsCpu {
  private readonly client: pg.Client

  /** `applicationName`: what this run's connections are called (see withApplicationName). */
  constructor(databaseUrl: string, private readonly applicationName: string) {
    this.client = new pg.Client({ connectionString: databaseUrl })
    this.client.on('error', () => {})
  }

  async open(): Promise<void> {
    await this.client.connect()
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {})
  }

  async sample(): Promise<JobsCpuSample> {
    const { rows } = await this.client.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = $1 or backend_type <> 'client backend'",
      [this.applicationName]
    )
    const ours = new Map<number, number>()
    for (const { pid } of rows) {
      const ticks = ticksOf(pid)
      if (ticks !== undefined) ours.set(pid, ticks)
    }
    return { process: process.cpuUsage(), ours, postgres: ticksByPid('postgres'), redis: ticksByPid('redis-server') }
  }

  /** The CPU between two samples, per 1,000 of `jobs`. */
  static use(start: JobsCpuSample, end: JobsCpuSample, jobs: number): JobsCpuUse {
    const perK = (ms: number) => Math.round((ms / jobs) * 1000 * 10) / 10
    const ticks = (t: number | undefined) => (t === undefined ? undefined : perK(t * TICK_MS))
    const user = end.process.user - start.process.user
    const system = end.process.system - start.process.system
    return {
      workerMsPerK: perK((user + system) / 1000),
      postgresOursMsPerK: ticks(ticksSince(start.ours, end.ours)),
      postgresAllMsPerK: ticks(ticksSince(start.postgres, end.postgres)),
      redisMsPerK: ticks(ticksSince(start.redis, end.redis))
    }
  }
}

/** The database URL with `application_name` set, so this run's backends can be told from other clients'. */
export function withApplicationName(databaseUrl: string, applicationName: string): string {
  const url = new URL(databaseUrl)
  url.searchParams.set('application_name', applicationName)
  return url.toString()
}
