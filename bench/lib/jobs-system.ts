/**
 * What the jobs benchmark needs of a job system (Bazaar's shared/jobs, pg-boss, graphile-worker, BullMQ):
 * enqueue many jobs at once, immediately or due at a given time, and run a handler that reports each job it
 * starts. Each adapter configures its system as that system's own documentation advises for throughput.
 */

/** The job's payload in every system: the run's tag (jobs of an earlier run are ignored) and its sequence number. */
export interface BenchJob {
  tag: string
  seq: number
}

/** One job to enqueue; `dueAt` (wall clock, ms since the epoch) absent means run now. */
export interface JobToEnqueue extends BenchJob {
  dueAt?: number
}

/** Called by the adapter's handler when a job starts; a job of another run has a tag it does not know. */
export type OnJobStarted = (job: BenchJob) => void

export interface JobSystem {
  /** the label in the tables: name and version */
  readonly label: string
  /** `durable`: the job survives a crash of the server (PostgreSQL's commits); BullMQ on this Redis keeps nothing on disk */
  readonly durable: boolean
  /** what a job's run guarantees, in a few words (the table prints it) */
  readonly guarantees: string
  /** the throughput settings used, as the system's docs advise (printed and recorded) */
  readonly settings: Record<string, unknown>
  /** Creates its schema or prefix and queue; nothing is running yet. */
  setup(): Promise<void>
  /** Starts the workers; jobs already queued start draining. */
  startWorkers(onStarted: OnJobStarted): Promise<void>
  /** Stops the workers (jobs still queued stay queued). */
  stopWorkers(): Promise<void>
  /** Enqueues the jobs in as few calls as the system allows (its bulk API), `bulkSize` jobs a call. */
  enqueue(jobs: JobToEnqueue[], bulkSize: number): Promise<void>
  /** Where the time goes inside the system, where it tells (Bazaar's `fired` events): begun before a measurement, read after it. */
  readonly probe?: { begin(): void; end(tag: string, n: number): Promise<Record<string, unknown>> }
  /** Stops everything and removes its schema, database objects or keys. */
  teardown(): Promise<void>
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the database's and Redis's clocks on this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now()

/** Splits `items` into consecutive chunks of `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * What every adapter shares: its description (label, durability, guarantee, the settings it was given),
 * enqueueing as consecutive bulk calls of `bulkSize` (each system's own bulk API, `addBulk`), and a
 * teardown that stops the workers before releasing the system (`release`).
 */
export abstract class BulkJobSystem implements JobSystem {
  readonly label: string
  readonly durable: boolean
  readonly guarantees: string
  readonly settings: Record<string, unknown>

  constructor(description: Pick<JobSystem, 'label' | 'durable' | 'guarantees' | 'settings'>) {
    this.label = description.label
    this.durable = description.durable
    this.guarantees = description.guarantees
    this.settings = description.settings
  }

  abstract setup(): Promise<void>
  abstract startWorkers(onStarted: OnJobStarted): Promise<void>
  abstract stopWorkers(): Promise<void>
  /** One call of the system's bulk API for these jobs. */
  protected abstract addBulk(jobs: JobToEnqueue[]): Promise<void>
  /** Closes the system's connections and removes what it made (the workers are stopped by then). */
  protected abstract release(): Promise<void>

  async enqueue(jobs: JobToEnqueue[], bulkSize: number): Promise<void> {
    for (const chunk of chunks(jobs, bulkSize)) await this.addBulk(chunk)
  }

  async teardown(): Promise<void> {
    await this.stopWorkers().catch(() => {})
    await this.release()
  }
}
