import type { ServerResponse } from 'node:http'
import type { Session } from 'better-sse'
import type { Logger } from '../../../shared/log/logger.ts'
import type { Principal, RecordedEvent } from '../history/audiences.ts'
import { render } from './render.ts'

/** What the gateway keeps per open stream: small, since there are tens of thousands. */
export interface StreamState {
  principal: Principal
  audiences: string[]
  /** the id of the last event this stream was sent; ids only ever increase on a stream */
  lastSent: number
  /** live events that arrived while history was being caught up, sent after it */
  pending?: RecordedEvent[]
  res: ServerResponse
  /** which slot of the keep-alive interval this stream's comment goes out in */
  keepAliveSlot?: number
  /** when the credentials it was opened with expire (ms since the epoch): the stream ends then */
  expiresAt?: number
  /** a user's stream: the session version of its token, which ending the user's sessions revokes */
  sessionVersion?: number
}

export type Stream = Session<StreamState>

/**
 * An event's data already serialised: one event goes to thousands of streams
 * (a maintenance notice to all of them), and is serialised once, not once per
 * stream. Streams are created with `serializeEventData` as their serializer.
 */
class SerializedData {
  constructor(readonly json: string) {}
}

const serialized = new WeakMap<object, SerializedData>()

function serializedOnce(data: unknown): SerializedData {
  if (typeof data !== 'object' || data === null) return new SerializedData(JSON.stringify(data))
  let done = serialized.get(data)
  if (!done) serialized.set(data, (done = new SerializedData(JSON.stringify(data))))
  return done
}

/** The serializer of every stream (better-sse's `serializer` option): what the hub serialised, as it is. */
export const serializeEventData = (data: unknown): string => (data instanceof SerializedData ? data.json : JSON.stringify(data))

/**
 * This instance's open streams, indexed by audience, and the one way events
 * are written to them. A client whose socket has more than `maxBufferBytes`
 * unsent is disconnected instead of buffered without end: it never holds up
 * the others, and reconnects with Last-Event-ID to get what it missed.
 */
export class StreamHub {
  private readonly byAudience = new Map<string, Set<Stream>>()
  private readonly streams = new Set<Stream>()
  private readonly keepAlive: KeepAliveWheel

  constructor(
    private readonly options: {
      maxBufferBytes: number
      keepAliveMs: number
      logger?: Logger
      /** whether a stream's credentials have been revoked since it opened, asked at each keep-alive */
      revoked?: (state: StreamState) => boolean
      /** told the SSE event name of each event written to a stream (metrics) */
      pushed?: (kind: string) => void
    }
  ) {
    this.keepAlive = new KeepAliveWheel(options.keepAliveMs, (stream) => this.comment(stream))
  }

  get size(): number {
    return this.streams.size
  }

  /** Registers a stream; live events for it are held in `pending` until `goLive`. */
  add(stream: Stream): void {
    stream.state.pending = []
    this.streams.add(stream)
    this.keepAlive.add(stream)
    for (const audience of stream.state.audiences) {
      let set = this.byAudience.get(audience)
      if (!set) this.byAudience.set(audience, (set = new Set()))
      set.add(stream)
    }
  }

  remove(stream: Stream): void {
    if (!this.streams.delete(stream)) return
    this.keepAlive.remove(stream)
    for (const audience of stream.state.audiences) {
      const set = this.byAudience.get(audience)
      set?.delete(stream)
      if (set?.size === 0) this.byAudience.delete(audience)
    }
  }

  /** Sends the caught-up history, then what arrived meanwhile, and from now on sends live. */
  goLive(stream: Stream, history: RecordedEvent[], seenUpTo = 0): void {
    for (const event of history) this.send(stream, event)
    // live events the client says it has already seen are not sent again
    stream.state.lastSent = Math.max(stream.state.lastSent, seenUpTo)
    const pending = stream.state.pending ?? []
    stream.state.pending = undefined
    for (const event of pending) this.send(stream, event)
  }

  /** Pushes one recorded event to every local stream it is for. */
  dispatch(event: RecordedEvent): void {
    const targets = new Set<Stream>()
    for (const audience of event.audiences) {
      const set = this.byAudience.get(audience)
      if (set) for (const stream of set) targets.add(stream)
    }
    for (const stream of targets) {
      if (stream.state.pending) {
        stream.state.pending.push(event)
        if (stream.state.pending.length > 10_000) this.drop(stream, 'too many events while catching up')
      } else {
        this.send(stream, event)
      }
    }
  }

  /** Ends every stream of one appliance (revoked). */
  endAppliance(applianceId: string): number {
    let ended = 0
    for (const stream of this.streams) {
      const principal = stream.state.principal
      if (principal.kind === 'appliance' && principal.applianceId === applianceId) {
        this.end(stream)
        ended++
      }
    }
    return ended
  }

  /** Ends the streams of one user opened with a session version below `sessionVersion` (their sessions ended). */
  endUserStreams(userId: string, sessionVersion: number): number {
    let ended = 0
    for (const stream of [...this.streams]) {
      const { principal, sessionVersion: version = 0 } = stream.state
      if (principal.kind === 'user' && principal.userId === userId && version < sessionVersion) {
        this.end(stream)
        ended++
      }
    }
    return ended
  }

  /** The appliances with an open stream here (to check for revocations missed while not listening). */
  applianceIds(): string[] {
    const ids = new Set<string>()
    for (const stream of this.streams) if (stream.state.principal.kind === 'appliance') ids.add(stream.state.principal.applianceId)
    return [...ids]
  }

  /** Ends every stream (shutdown); clients reconnect elsewhere with Last-Event-ID. */
  endAll(): void {
    for (const stream of [...this.streams]) this.end(stream)
  }

  private send(stream: Stream, event: RecordedEvent): void {
    const state = stream.state
    if (event.id <= state.lastSent || !stream.isConnected) return
    const shown = render(event, state.principal)
    if (!shown) return
    if (this.droppedIfTooSlow(stream)) return
    state.lastSent = event.id
    stream.push(serializedOnce(shown.data), shown.name, String(event.id))
    this.options.pushed?.(shown.name)
  }

  /**
   * A keep-alive comment (what better-sse would write); a client too far behind is dropped here as
   * well. The keep-alive visits every stream once per interval, so it is also where a stream whose
   * credentials expired (or were revoked and missed) ends: at the latest one interval after.
   */
  private comment(stream: Stream): void {
    if (!stream.isConnected || this.droppedIfTooSlow(stream)) return
    const state = stream.state
    if ((state.expiresAt !== undefined && state.expiresAt <= Date.now()) || this.options.revoked?.(state)) {
      this.end(stream)
      return
    }
    state.res.write(':\n\n')
  }

  /** Disconnects a client with more than `maxBufferBytes` unsent, rather than buffer for it without end. */
  private droppedIfTooSlow(stream: Stream): boolean {
    if (stream.state.res.writableLength <= this.options.maxBufferBytes) return false
    this.drop(stream, 'client too slow')
    return true
  }

  private drop(stream: Stream, reason: string): void {
    this.options.logger?.warn({ principal: stream.state.principal, reason }, 'stream disconnected')
    this.remove(stream)
    stream.state.res.destroy()
  }

  private end(stream: Stream): void {
    this.remove(stream)
    stream.state.res.end()
  }
}


/** How long one slot of the keep-alive interval lasts: streams are kept alive a slot at a time. */
const slotMs = 250

/**
 * Keep-alive comments for every stream from one timer, instead of a timer per
 * stream. Each stream gets a random slot of the interval when it registers, so
 * streams that connected together (a deploy, a reconnect storm) are kept alive
 * spread over the whole interval rather than all within the same few
 * milliseconds of it, which would hold up the events pushed meanwhile. Each
 * stream still gets a comment once per interval. The timer runs only while
 * there are streams.
 */
class KeepAliveWheel {
  private readonly slots: Array<Set<Stream>>
  private current = 0
  private size = 0
  private timer?: NodeJS.Timeout
  private readonly tickMs: number

  constructor(
    intervalMs: number,
    private readonly send: (stream: Stream) => void
  ) {
    this.slots = Array.from({ length: Math.max(1, Math.round(intervalMs / slotMs)) }, () => new Set<Stream>())
    this.tickMs = intervalMs / this.slots.length
  }

  add(stream: Stream): void {
    const slot = Math.floor(Math.random() * this.slots.length)
    stream.state.keepAliveSlot = slot
    this.slots[slot]!.add(stream)
    if (this.size++ === 0) {
      this.timer = setInterval(() => this.tick(), this.tickMs)
      this.timer.unref()
    }
  }

  remove(stream: Stream): void {
    const slot = stream.state.keepAliveSlot
    if (slot === undefined || !this.slots[slot]!.delete(stream)) return
    if (--this.size === 0) clearInterval(this.timer)
  }

  private tick(): void {
    this.current = (this.current + 1) % this.slots.length
    for (const stream of [...this.slots[this.current]!]) this.send(stream)
  }
}
