export { Jobs, DEFAULT_RUNNER_SETTINGS, type JobsOptions } from './jobs.ts'
export { JobError, isJobError, type JobErrorCode } from './errors.ts'
export { jobMigrations } from './tables.ts'
export type { ManyJob, Scheduled } from './enqueue-many.ts'
export { jobsChannel } from './signal.ts'
export { checkCadence, nextDueAfter, type Cadence } from './next-due.ts'
export type {
  CatchUpPolicy,
  FiredJob,
  JobContext,
  JobDefinition,
  OverlapPolicy,
  RunAt,
  ScheduleDefinition,
  ScheduleJobOptions
} from './types.ts'
