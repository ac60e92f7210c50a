/**
 * The jobs module's one error class: a string `code` per failure, so callers
 * (the REST error mapping, the CLI) branch on codes rather than on message text.
 */
export type JobErrorCode =
  | 'INVALID_SCHEDULE'
  | 'CONTRACT_VIOLATION'
  | 'DUPLICATE_KEY'
  | 'UNKNOWN_JOB'
  | 'UNKNOWN_SCHEDULE'
  | 'ALREADY_DEFINED'

export class JobError extends Error {
  readonly code: JobErrorCode

  constructor(code: JobErrorCode, message: string) {
    super(message)
    this.name = 'JobError'
    this.code = code
  }
}

export function isJobError(err: unknown, code?: JobErrorCode): err is JobError {
  return err instanceof JobError && (code === undefined || err.code === code)
}
