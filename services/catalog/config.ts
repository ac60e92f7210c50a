import { Type, type Static } from '@feathersjs/typebox'
import { durationMs } from '../../shared/config/duration.ts'

/** The catalog's own settings (validated at start): the bulk import's knobs. */
export const catalogConfigSchema = Type.Object(
  {
    /** IMPORT_CHUNK_ROWS: rows per chunk message (one transaction of a chunk worker) */
    importChunkRows: Type.Integer({ minimum: 1, maximum: 5_000, default: 500 }),
    /** IMPORT_MAX_IN_FLIGHT: chunks published and not yet counted before the iterator waits (throttle) */
    importMaxInFlight: Type.Integer({ minimum: 1, default: 16 }),
    /** IMPORT_DEADLINE: an import not complete by then is closed, its unprocessed rows reported failed (ms) */
    importDeadlineMs: Type.Integer({ minimum: 1, default: 3_600_000 }),
    /** IMPORT_PROGRESS_EVERY: at most one progress notice per this many ms */
    importProgressEveryMs: Type.Integer({ minimum: 1, default: 250 }),
    /** IMPORT_LEASE: how long an iterator lease lasts without a heartbeat (ms) */
    importLeaseMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** IMPORT_STEP_ATTEMPTS: an iterator step failing this many times in a row fails the import (its unsent rows reported) */
    importStepAttempts: Type.Integer({ minimum: 1, default: 5 }),
    /** IMPORT_STEP_RETRY: the wait after a step's first failure, doubled after each next one (ms) */
    importStepRetryMs: Type.Integer({ minimum: 1, default: 1_000 }),
    /** IMPORT_WORKERS: chunk messages a catalog instance handles at once */
    importWorkers: Type.Integer({ minimum: 1, default: 4 })
  },
  { $id: 'CatalogConfig', additionalProperties: false }
)
export type CatalogConfig = Static<typeof catalogConfigSchema>

/** Values from the process environment; unset ones take the schema's defaults. */
export function catalogConfigValues(vars: NodeJS.ProcessEnv): Record<string, unknown> {
  const int = (value: string | undefined) => (value === undefined ? undefined : Number(value))
  return {
    importChunkRows: int(vars.IMPORT_CHUNK_ROWS),
    importMaxInFlight: int(vars.IMPORT_MAX_IN_FLIGHT),
    importDeadlineMs: durationMs(vars.IMPORT_DEADLINE),
    importProgressEveryMs: durationMs(vars.IMPORT_PROGRESS_EVERY),
    importLeaseMs: durationMs(vars.IMPORT_LEASE),
    importStepAttempts: int(vars.IMPORT_STEP_ATTEMPTS),
    importStepRetryMs: durationMs(vars.IMPORT_STEP_RETRY),
    importWorkers: int(vars.IMPORT_WORKERS)
  }
}
