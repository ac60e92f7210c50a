import { Ajv, addFormats } from '@feathersjs/schema'
import type { TSchema } from '@feathersjs/typebox'
import type { ValidateFunction } from 'ajv'
import { JobError } from './errors.ts'
import type { JobDefinition } from './types.ts'

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }), ['date-time', 'email', 'uuid'])

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 10_000, 60_000]

/** A job definition as the runner uses it: its payload check compiled once. */
export interface DefinedJob {
  name: string
  definition: JobDefinition<TSchema>
  validate: ValidateFunction
  retryDelaysMs: number[]
}

export function defineJob(name: string, definition: JobDefinition<TSchema>): DefinedJob {
  const delays = definition.retry?.delaysMs ?? DEFAULT_RETRY_DELAYS_MS
  if (delays.some((d) => !Number.isFinite(d) || d < 0)) throw new JobError('CONTRACT_VIOLATION', `job "${name}": retry delays must be milliseconds >= 0`)
  return { name, definition, validate: ajv.compile(definition.payload), retryDelaysMs: delays }
}

/** null when the payload fits, else the reason naming the failing fields. */
export function payloadProblem(job: DefinedJob, payload: unknown): string | null {
  if (job.validate(payload)) return null
  const reason = (job.validate.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ')
  return `payload does not match job "${job.name}": ${reason}`
}
