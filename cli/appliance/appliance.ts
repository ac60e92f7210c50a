import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import type { OrderCreated } from '../../shared/contracts/index.ts'
import { formatReceipt } from './receipt.ts'
import { readEventStream } from './sse-reader.ts'

export interface ApplianceOptions {
  /** the gateway's origin, e.g. http://127.0.0.1:3030 */
  url: string
  /** the appliance token from `POST /appliances` */
  token: string
  /** a directory: one `<orderId>.txt` per order instead of stdout */
  out?: string
  /** where receipts go without `out` (default stdout) and status lines go (default stderr) */
  stdout?: Writable
  stderr?: Writable
  /** bounds of the reconnect backoff (the server's `retry:` hint is the starting point) */
  minRetryMs?: number
  maxRetryMs?: number
}

export interface ApplianceEvents {
  connected: []
  disconnected: [reason: string]
  /** an order arrived on the stream (also one already printed, which is only acknowledged again) */
  order: [order: OrderCreated, eventId: string]
  printed: [order: OrderCreated]
  acked: [orderId: string]
  maintenance: [notice: { id: string; message: string; startsAt: string; endsAt: string }]
}

export class TokenRefusedError extends Error {
  constructor(status: number) {
    super(`the gateway refused the appliance token (HTTP ${status}): it is wrong or was revoked`)
    this.name = 'TokenRefusedError'
  }
}

/** A running appliance: `stop()` ends it; `done` settles when it has ended (rejects if the token is refused). */
export interface RunningAppliance extends EventEmitter<ApplianceEvents> {
  stop(): Promise<void>
  done: Promise<void>
  /** the Last-Event-ID it will reconnect with */
  readonly lastEventId: string
}

/**
 * The reference warehouse receipt appliance. It keeps one SSE connection to
 * the gateway, prints each order once (in memory, and with `out` also across
 * restarts: an order whose file exists is not printed again), acknowledges it
 * with `POST /receipts`, and reconnects after any drop with Last-Event-ID and
 * a jittered backoff. Orders it printed but could not acknowledge come back
 * on reconnect and are then only acknowledged.
 */
export function runAppliance(options: ApplianceOptions): RunningAppliance {
  const emitter = new EventEmitter<ApplianceEvents>() as RunningAppliance
  const origin = options.url.replace(/\/+$/, '')
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const minRetryMs = options.minRetryMs ?? 250
  const maxRetryMs = options.maxRetryMs ?? 10_000
  const printed = new Set<string>()
  const state = { lastEventId: '', retryMs: 1_000, onRetry: (ms: number) => (state.retryMs = ms) }
  let stopped = false
  const controller = new AbortController()
  const say = (line: string) => stderr.write(`[appliance] ${line}\n`)

  const lines = (order: OrderCreated) => `${order.items.length} line${order.items.length === 1 ? '' : 's'}`
  const print = async (order: OrderCreated) => {
    const text = formatReceipt(order)
    if (!options.out) {
      stdout.write(text + '\n')
      say(`printed order ${order.orderId} (${lines(order)}) to stdout`)
      return
    }
    await mkdir(options.out, { recursive: true })
    const file = join(options.out, `${order.orderId.replace(/[^\w.-]/g, '_')}.txt`)
    await writeFile(`${file}.tmp`, text)
    await rename(`${file}.tmp`, file) // a receipt file is complete or absent
    // One status line per receipt (on stderr, with the others): an operator sees the printer working.
    say(`printed order ${order.orderId} (${lines(order)}) to ${file}`)
  }

  const alreadyPrinted = (orderId: string) =>
    printed.has(orderId) || (options.out !== undefined && existsSync(join(options.out, `${orderId.replace(/[^\w.-]/g, '_')}.txt`)))

  const acknowledge = async (orderId: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${origin}/receipts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify({ orderId }),
          signal: controller.signal
        })
        await response.arrayBuffer().catch(() => {})
        if (response.status === 401) throw new TokenRefusedError(401)
        if (response.ok) {
          emitter.emit('acked', orderId)
          return
        }
        if (response.status < 500 || attempt >= 3) {
          say(`could not acknowledge order ${orderId} (HTTP ${response.status}); it is delivered again on reconnect`)
          return
        }
      } catch (err) {
        if (err instanceof TokenRefusedError) throw err
        if (stopped || attempt >= 3) return // unacknowledged: the gateway sends it again on reconnect
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
    }
  }

  // Printing and acknowledging run in order, one at a time, behind the reading of the stream, which never waits for them.
  let work: Promise<void> = Promise.resolve()
  let refused: TokenRefusedError | undefined
  const handleOrder = async (order: OrderCreated) => {
    if (!alreadyPrinted(order.orderId)) {
      await print(order)
      printed.add(order.orderId)
      emitter.emit('printed', order)
    } else {
      // Said out loud so a test or a chaos run can count redeliveries the printer absorbed.
      say(`order ${order.orderId} delivered again; already printed, acknowledging only`)
    }
    await acknowledge(order.orderId)
  }

  const connectOnce = async (): Promise<void> => {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.token}` }
    if (state.lastEventId) headers['last-event-id'] = state.lastEventId
    const response = await fetch(`${origin}/events`, { headers, signal: controller.signal })
    if (response.status === 401 || response.status === 403) {
      await response.arrayBuffer().catch(() => {})
      throw new TokenRefusedError(response.status)
    }
    if (!response.ok || !response.body) {
      await response.arrayBuffer().catch(() => {})
      throw new Error(`HTTP ${response.status}`)
    }
    emitter.emit('connected')
    say(`connected to ${origin}${state.lastEventId ? ` (resuming after event ${state.lastEventId})` : ''}`)
    for await (const event of readEventStream(response.body, state)) {
      if (refused) throw refused
      if (event.type === 'order') {
        const order = JSON.parse(event.data) as OrderCreated
        emitter.emit('order', order, event.id)
        work = work.then(() => handleOrder(order)).catch((err: Error) => {
          if (err instanceof TokenRefusedError) refused = err
          else say(`could not print order ${order.orderId}: ${err.message}; it comes again on reconnect`)
        })
      }
      else if (event.type === 'maintenance') {
        const notice = JSON.parse(event.data)
        emitter.emit('maintenance', notice)
        say(`maintenance: ${notice.message} (${notice.startsAt} to ${notice.endsAt})`)
      }
    }
  }

  const loop = async () => {
    let failures = 0
    while (!stopped) {
      let reason = 'stream ended'
      try {
        await connectOnce()
        failures = 0
      } catch (err) {
        if (err instanceof TokenRefusedError) throw err
        if (stopped) break
        reason = (err as Error).message
        failures++
      }
      if (stopped) break
      emitter.emit('disconnected', reason)
      // the server's hint first, then exponential backoff with jitter while it keeps failing
      const base = Math.min(maxRetryMs, Math.max(minRetryMs, state.retryMs * 2 ** Math.max(0, failures - 1)))
      const wait = Math.round(base / 2 + Math.random() * (base / 2))
      say(`disconnected (${reason}); reconnecting in ${wait} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait)
        controller.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
    }
  }

  emitter.done = loop()
  emitter.done.catch(() => {})
  emitter.stop = async () => {
    stopped = true
    controller.abort()
    await emitter.done.catch(() => {})
    await work
  }
  Object.defineProperty(emitter, 'lastEventId', { get: () => state.lastEventId })
  return emitter
}
