/**
 * A failure an operator caused or can act on (an unknown queue, a management API that refuses the
 * credentials): one line of text and the HTTP status the console answers with. The CLI prints the
 * line and exits 1, as for any of its own errors.
 */
export class OpsError extends Error {
  constructor(
    message: string,
    readonly status = 502
  ) {
    super(message)
    this.name = 'OpsError'
  }
}
