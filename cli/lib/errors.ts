import { isBusError } from '../../shared/bus/errors.ts'

/**
 * What the CLI prints when it fails: one line on stderr, a non-zero exit code,
 * never a stack trace. `exitCode` 2 is for bad usage, 1 for everything else.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1
  ) {
    super(message)
    this.name = 'CliError'
  }
}

export const usageError = (message: string) => new CliError(message, 2)

/** One line describing any failure, for stderr. */
export function oneLine(err: unknown): string {
  let message: string
  if (err instanceof CliError || isBusError(err)) message = err.message
  else if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    message = cause?.code ? `${err.message} (${cause.code})` : err.message
  } else message = String(err)
  return message.replace(/\s*\n\s*/g, ' ').trim()
}

export function exitCodeOf(err: unknown): number {
  return err instanceof CliError ? err.exitCode : 1
}
