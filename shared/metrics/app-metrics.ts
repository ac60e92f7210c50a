import type { Knex } from 'knex'
import type { Registry } from 'prom-client'
import type { Bus } from '../bus/bus.ts'
import type { Jobs } from '../jobs/jobs.ts'
import type { Logger } from '../log/logger.ts'
import { BusMetrics } from './bus.ts'
import { countDuplicates } from './inbox.ts'
import { KvMetrics, type MeasuredReplica } from './kv.ts'
import { watchJobs } from './jobs.ts'
import { addProcessMetrics, createRegistry } from './registry.ts'
import { streamMetrics, type StreamCount } from './sse.ts'
import { tableGauges } from './tables.ts'

export interface AppMetricsOptions {
  service: string
  db: Knex
  schema: string
  bus: Bus
  jobs: Jobs
  logger?: Logger
}

/**
 * Everything one service app exports on `/metrics` (docs/observability.md): its own registry, the
 * bus, inbox, outbox, parking and job families. createServiceApp makes one per app; `watch()` runs
 * at setup, once the service's configure calls have declared its consumers.
 */
export class AppMetrics {
  readonly registry: Registry
  private readonly bus: BusMetrics
  private readonly countingDuplicates: () => () => void
  private stopDuplicates?: () => void
  private processIncluded = false
  private kv?: KvMetrics

  constructor(private readonly options: AppMetricsOptions) {
    this.registry = createRegistry(options.service)
    this.bus = new BusMetrics(this.registry)
    this.countingDuplicates = countDuplicates(this.registry, options.schema)
    tableGauges(this.registry, options)
    watchJobs(this.registry, options.jobs)
  }

  /** Starts counting the bus's publishes, its consumers' deliveries (those declared by now) and the inbox's duplicates. */
  watch(): void {
    this.bus.watch(this.options.bus)
    this.stopDuplicates ??= this.countingDuplicates()
  }

  /** Adds the Node process families: once, for the app that is the whole process (runService()). */
  includeProcess(): void {
    if (this.processIncluded) return
    this.processIncluded = true
    addProcessMetrics(this.registry)
  }

  /** A KV replica of `feed` (shared/kv/app.ts): its propagation lag and whether it has caught up. */
  watchReplica(feed: string, replica: MeasuredReplica): void {
    this.kv ??= new KvMetrics(this.registry)
    this.kv.watch(feed, replica)
  }

  /** The gateway's streams: returns the hook its hub calls on each push. */
  streams(hub: () => StreamCount | undefined): (kind: string) => void {
    return streamMetrics(this.registry, hub)
  }

  stop(): void {
    this.stopDuplicates?.()
    this.stopDuplicates = undefined
  }
}
