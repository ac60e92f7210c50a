import type { IncomingMessage, ServerResponse } from 'node:http'
import { createChannel, createSession } from 'better-sse'
import type { Logger } from '../../../shared/log/logger.ts'
import type { OpsConsole, OpsSnapshot } from './console.ts'

interface PageState {
  res: ServerResponse
}

/**
 * The console's live updates: one better-sse channel for every open page, and one refresh timer
 * while at least one is open (not one per page). A `state` event goes out when the snapshot changed
 * and at once after an action; a page that connects gets the current one first.
 */
export class OpsStream {
  private readonly channel = createChannel<Record<string, unknown>, PageState>()
  private timer?: NodeJS.Timeout
  private last?: string
  private refreshing?: Promise<void>

  constructor(
    private readonly console: OpsConsole,
    private readonly options: { intervalMs: number; logger: Logger }
  ) {
    this.channel.on('session-deregistered', () => {
      if (this.channel.sessionCount === 0) this.stopTimer()
    })
  }

  async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = await createSession<PageState>(req, res, { state: { res }, keepAlive: 15_000, retry: 3_000 })
    const snapshot = await this.console.snapshot()
    if (!session.isConnected) return
    session.push(snapshot, 'state')
    this.channel.register(session)
    this.timer ??= setInterval(() => void this.refresh(), this.options.intervalMs)
    this.timer.unref()
  }

  /** Reads the state and broadcasts it if it changed. Timer ticks share one read in flight. */
  refresh(): Promise<void> {
    if (this.channel.sessionCount === 0) return Promise.resolve()
    this.refreshing ??= this.broadcastSnapshot(false).finally(() => (this.refreshing = undefined))
    return this.refreshing
  }

  /** After an action: a read that starts after it (the console runs one thing at a time), always sent. */
  afterAction(): Promise<void> {
    return this.channel.sessionCount === 0 ? Promise.resolve() : this.broadcastSnapshot(true)
  }

  private broadcastSnapshot(force: boolean): Promise<void> {
    return this.console
      .snapshot()
      .then((snapshot) => this.send(snapshot, force))
      .catch((err: Error) => this.options.logger.warn({ err: err.message }, 'ops console refresh failed'))
  }

  /** Ends every open page's stream (the gateway is stopping). */
  endAll(): void {
    this.stopTimer()
    for (const session of this.channel.activeSessions) {
      this.channel.deregister(session)
      session.state.res.end()
    }
  }

  private send(snapshot: OpsSnapshot, force: boolean): void {
    const { at, ...content } = snapshot
    const key = JSON.stringify(content)
    if (!force && key === this.last) return
    this.last = key
    this.channel.broadcast({ ...content, at }, 'state')
  }

  private stopTimer(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
