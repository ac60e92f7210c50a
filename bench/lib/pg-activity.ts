import pg from 'pg'

/**
 * A sampling profile of PostgreSQL without pg_stat_statements (not preloaded
 * on this machine, and loading it needs a restart): every `everyMs` it reads
 * pg_stat_activity and counts, per statement (its first words) and wait
 * event, the backends of this benchmark that were active. Counts are shares
 * of database time, including time spent waiting for locks or I/O. Backends
 * are told apart from other users of the database by the schema names in
 * their statements: a backend is ours once it has run one naming `marker`.
 */
export class PgActivitySampler {
  private readonly client: pg.Client
  private timer?: NodeJS.Timeout
  private readonly ours = new Set<number>()
  private readonly counts = new Map<string, number>()
  private samples = 0
  private busy = false

  constructor(databaseUrl: string, private readonly marker: string, private readonly everyMs = 10) {
    this.client = new pg.Client({ connectionString: databaseUrl })
  }

  async start(): Promise<void> {
    await this.client.connect()
    this.timer = setInterval(() => void this.sample(), this.everyMs)
  }

  private async sample(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const { rows } = await this.client.query<{ pid: number; query: string; wait: string | null }>(
        "select pid, query, wait_event_type || ':' || wait_event as wait from pg_stat_activity where state = 'active' and pid <> pg_backend_pid()"
      )
      this.samples++
      for (const row of rows) {
        if (row.query.includes(this.marker)) this.ours.add(row.pid)
        if (!this.ours.has(row.pid)) continue
        const key = `${shorten(row.query, this.marker)}  [${row.wait ?? 'cpu'}]`
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
      }
    } catch {
      // a sample lost: the profile has one fewer
    } finally {
      this.busy = false
    }
  }

  /** Active-backend samples per statement, largest first, as shares of all of ours. */
  async stop(): Promise<Array<{ statement: string; samples: number; share: string }>> {
    clearInterval(this.timer)
    await this.client.end().catch(() => {})
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0)
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([statement, samples]) => ({ statement, samples, share: `${((samples / total) * 100).toFixed(1)}%` }))
  }
}

/** The statement's first 110 characters, schema names dropped, whitespace folded. */
function shorten(query: string, marker: string): string {
  return query.split(marker).join('').replace(/"[a-z0-9_]*"\./g, '').replace(/\s+/g, ' ').trim().slice(0, 110)
}
