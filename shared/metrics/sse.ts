import { Gauge, type Registry } from 'prom-client'
import { talliedCounter, type Tally } from './tally.ts'

/** What the gateway's stream hub offers to be counted: how many streams are open now. */
export interface StreamCount {
  readonly size: number
}

/**
 * The gateway's streams: how many are open (read from the hub at scrape) and the events pushed to
 * them by SSE event name (`notice`, `order`, `maintenance`...: a fixed set). Returns the hub's
 * `pushed` hook: one tally per name, so a push (one per stream an event goes to) costs a Map
 * lookup and an addition.
 */
export function streamMetrics(registry: Registry, hub: () => StreamCount | undefined): (kind: string) => void {
  new Gauge({
    name: 'bazaar_sse_streams_open',
    help: 'Server-Sent Events streams open on this gateway instance',
    registers: [registry],
    collect() {
      this.set(hub()?.size ?? 0)
    }
  })
  const pushed = talliedCounter({
    name: 'bazaar_sse_events_pushed_total',
    help: 'Events written to SSE streams, by event name (one per stream it went to)',
    labelNames: ['kind'],
    registers: [registry]
  })
  const tallies = new Map<string, Tally>()
  return (kind) => {
    let tally = tallies.get(kind)
    if (!tally) tallies.set(kind, (tally = pushed(kind)))
    tally.pending++
  }
}
