import type { Command } from 'commander'
import type { ConsumerOutcome, RequestTrace, TracedEvent } from '../../shared/ops/request-trace.ts'
import { serviceTable } from '../../shared/services.ts'
import { contextOf } from '../lib/context.ts'
import { withDatabase } from '../lib/database.ts'
import { CliError } from '../lib/errors.ts'
import { printJson } from '../lib/output.ts'

interface TraceOptions {
  json?: boolean
  service: string[]
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('every event a request caused, in causal order, with each consumer\'s outcome and the timings')
    .argument('<request-id>', 'the X-Request-Id of the HTTP request (its response header)')
    .option('--service <service>', 'also read this service\'s schema (one outside the service table); repeatable', collect, [])
    .option('--json', 'print JSON')
    .action(async (requestId: string, options: TraceOptions, command: Command) => {
      const context = contextOf(command)
      const services = [...new Set([...serviceTable.map((s) => s.name), ...options.service])]
      const { readRequestTrace } = await import('../../shared/ops/request-trace.ts')
      const trace = await withDatabase(context.env.databaseUrl, (db) => readRequestTrace(db, context.namespace, services, requestId))
      if (!trace) {
        throw new CliError(`no events recorded for request ${requestId} in namespace ${context.namespace} (unknown id, no event caused, or past the 7-day retention)`)
      }
      if (options.json) return printJson({ namespace: context.namespace, ...trace })
      process.stdout.write(renderTrace(trace))
    })
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** The trace as a tree: each event, then its consumers' outcomes and the events they wrote. Times are from the first event's write. */
export function renderTrace(trace: RequestTrace): string {
  const start = Date.parse(trace.startedAt)
  const since = (iso: string) => `+${Date.parse(iso) - start} ms`
  const lines = [
    `request ${trace.requestId}` + (trace.traceIds.length ? `  trace ${trace.traceIds.join(', ')}` : ''),
    `${trace.eventCount} event${trace.eventCount === 1 ? '' : 's'}, services ${trace.services.join(', ')}, ` +
      `${Date.parse(trace.finishedAt) - start} ms from ${trace.startedAt} to the last outcome`
  ]
  const walk = (event: TracedEvent, prefix: string, last: boolean) => {
    const relayed = event.relayedAt ? `relayed ${since(event.relayedAt)}` : 'not relayed yet (in the outbox)'
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${event.routingKey}  by ${event.service}  written ${since(event.writtenAt)}, ${relayed}  [${event.messageId}]`)
    const inner = prefix + (last ? '   ' : '│  ')
    const children: Array<{ outcome: ConsumerOutcome } | { event: TracedEvent }> = [
      ...event.outcomes.map((outcome) => ({ outcome })),
      ...event.caused.map((caused) => ({ event: caused }))
    ]
    if (children.length === 0) lines.push(`${inner}└─ (no consumer has recorded it yet)`)
    children.forEach((child, i) => {
      const isLast = i === children.length - 1
      if ('event' in child) return walk(child.event, inner, isLast)
      lines.push(`${inner}${isLast ? '└─ ' : '├─ '}${outcomeLine(child.outcome, since)}`)
    })
  }
  trace.events.forEach((event, i) => walk(event, '', i === trace.events.length - 1))
  return `${lines.join('\n')}\n`
}

function outcomeLine(outcome: ConsumerOutcome, since: (iso: string) => string): string {
  const attempt = outcome.attempt !== undefined ? ` (attempt ${outcome.attempt})` : ''
  const label = outcome.outcome === 'duplicate' ? 'skipped as duplicate' : outcome.outcome
  const error = outcome.error ? `: ${shortened(outcome.error.replace(/\s*\n\s*/g, ' '))}` : ''
  return `${outcome.service}/${outcome.consumer}  ${label}${attempt}  ${since(outcome.at)}${error}`
}

/** A long error cut in the middle: its start says where (the kind, the statement), its end why. */
function shortened(error: string): string {
  return error.length <= 140 ? error : `${error.slice(0, 30)} … ${error.slice(-100)}`
}
