import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { USER_REGISTERED } from '../../shared/contracts/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { activeTracer, disableTracing } from '../../shared/tracing/provider.ts'
import { createApp as createUsers } from '../../services/users/app.ts'
import { Tap, clientTraceparent, register, traceIdIn } from './support.ts'

/** What an OpenTelemetry collector would receive over OTLP/HTTP (JSON): the trace ids of every span posted to /v1/traces. */
class Collector {
  readonly traceIds: string[] = []
  requests = 0
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Collector> {
    const server = createServer()
    const collector = new Collector(server)
    server.on('request', (req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          collector.requests++
          const sent = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> }
          for (const resource of sent.resourceSpans) for (const scope of resource.scopeSpans) for (const span of scope.spans) collector.traceIds.push(span.traceId)
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return collector
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/**
 * The standard variable decides: with OTEL_EXPORTER_OTLP_ENDPOINT a service exports its spans over OTLP
 * (here to an in-process collector); without it no tracer exists and nothing is sent, while the events
 * still carry the request's trace id.
 */
describe('tracing: OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing when not', () => {
  const ns = uniqueNamespace('trace_otlp')
  const env = testEnv(ns)
  let collector: Collector
  let tap: Tap | undefined
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT

  before(async () => {
    collector = await Collector.start()
  })

  after(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved
    await disableTracing()
    await tap?.close()
    await new TestApps(ns).close()
    await collector.close()
  })

  it('with the variable set, the request\'s spans reach the collector under the client\'s trace id', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url
    const apps = new TestApps(ns)
    try {
      const [users] = await apps.startAll([createUsers(env)])
      expect(activeTracer()).to.not.equal(undefined)
      const client = clientTraceparent()
      await register(users!.url, { traceparent: client.traceparent })
      // the batch processor sends within its delay; stopping the app flushes it at once
      await users!.stop()
      await waitFor(() => collector.traceIds.includes(client.traceId), { what: 'the spans at the collector' })
    } finally {
      await apps.close()
      await disableTracing()
    }
  })

  it('without it, no tracer is made and nothing is exported, yet user.registered carries the trace id', async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    const before = collector.requests
    const apps = new TestApps(ns)
    try {
      const [users] = await apps.startAll([createUsers(env)])
      expect(activeTracer(), 'no tracer').to.equal(undefined)
      tap = await Tap.open(ns, [USER_REGISTERED])
      const client = clientTraceparent()
      await register(users!.url, { traceparent: client.traceparent })
      const [message] = await tap.take(1)
      expect(traceIdIn(message!)).to.equal(client.traceId)
      await users!.stop()
      expect(collector.requests, 'requests to the collector').to.equal(before)
    } finally {
      await apps.close()
    }
  })
})
