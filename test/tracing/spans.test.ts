import { expect } from 'chai'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { names } from '../../shared/bus/names.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, USER_REGISTERED } from '../../shared/contracts/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { enableTracing } from '../../shared/tracing/provider.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createUsers } from '../../services/users/app.ts'
import { Tap, byKey, clientTraceparent, probeApp, register, traceparentOf } from './support.ts'

/**
 * Tracing on, spans kept in memory (the SDK's InMemorySpanExporter): one registration through the gateway,
 * the probe's derived email task, and the spans' tree. Consumer spans must hang under the outbox write that
 * made their message (its context stored on the row and carried in the header), never under the relay.
 */
describe('tracing on: spans of a request and of the events it causes', () => {
  const ns = uniqueNamespace('trace_spans')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  const exporter = new InMemorySpanExporter()
  let turnOff: (() => Promise<void>) | undefined
  let smtp: TestSmtpServer
  let gateway: RunningApp
  let tap: Tap
  const client = clientTraceparent()
  let spans: ReadableSpan[] = []
  const activeSpans: string[] = []

  const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === client.traceId)
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
  const one = <T>(found: T[], what: string): T => {
    expect(found, what).to.have.length(1)
    return found[0]!
  }
  const processSpan = (queue: string) => one(spans.filter((s) => s.kind === SpanKind.CONSUMER && s.name === `process ${queue}`), `process ${queue}`)
  const createSpan = (service: string) => one(spans.filter((s) => s.kind === SpanKind.PRODUCER && s.name.startsWith('create ') && s.attributes['bazaar.service'] === service), `create by ${service}`)

  before(async () => {
    turnOff = enableTracing({ service: 'test', processor: new SimpleSpanProcessor(exporter) })
    smtp = await startSmtpServer()
    const [users] = await apps.startAll([createUsers(env), createNotifications({ ...env, smtpUrl: smtp.url }), probeApp(env, activeSpans)])
    gateway = await apps.start(createGateway(env, { ...process.env, USERS_URL: users!.url }))
    tap = await Tap.open(ns, [USER_REGISTERED, TASK_NOTIFICATIONS_SEND_EMAIL])
    const user = await register(gateway.url, { traceparent: client.traceparent })
    await waitFor(() => smtp.to(user.email).length === 2, { what: 'both emails' })
    // the last span of the cascade ends after its handler's transaction: wait for it rather than for the email
    spans = await waitFor(() => {
      const found = inTrace()
      return found.some((s) => s.name === `process ${names.queue(ns, 'notifications', 'task-send-email')}`) && found
    }, { what: 'the send-email process span' })
  })

  after(async () => {
    await tap?.close()
    await apps.close()
    await smtp?.close()
    await turnOff?.()
  })

  it("the gateway's and the service's HTTP spans are in the client's trace, one under the other", () => {
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER && s.name === 'POST /users')
    const gatewaySpan = one(servers.filter((s) => s.attributes['bazaar.service'] === 'gateway'), 'gateway span')
    const usersSpan = one(servers.filter((s) => s.attributes['bazaar.service'] === 'users'), 'users span')
    expect(parentOf(gatewaySpan)).to.equal(client.spanId)
    expect(parentOf(usersSpan)).to.equal(gatewaySpan.spanContext().spanId)
    expect(usersSpan.attributes['http.response.status_code']).to.equal(201)
  })

  it('the outbox write is a PRODUCER span under the HTTP span, with the messaging conventions', () => {
    const usersSpan = one(spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['bazaar.service'] === 'users'), 'users span')
    const write = createSpan('users')
    expect(parentOf(write)).to.equal(usersSpan.spanContext().spanId)
    expect(write.attributes).to.include({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'create',
      'messaging.destination.name': names.eventsExchange(ns),
      'messaging.rabbitmq.destination.routing_key': USER_REGISTERED
    })
  })

  it('every consumer span is a child of the outbox write that made its message, across the derived event', () => {
    const registration = createSpan('users')
    for (const queue of [names.queue(ns, 'notifications', 'user-events'), names.queue(ns, 'probe', 'signups')]) {
      const processed = processSpan(queue)
      expect(parentOf(processed), queue).to.equal(registration.spanContext().spanId)
      expect(processed.attributes).to.include({
        'messaging.system': 'rabbitmq', 'messaging.operation.type': 'process', 'messaging.destination.name': queue,
        'messaging.rabbitmq.destination.routing_key': USER_REGISTERED
      })
    }
    // the probe's handler wrote the task: its create span is under the probe's process span, and the task's consumer under that
    const derived = createSpan('probe')
    expect(parentOf(derived)).to.equal(processSpan(names.queue(ns, 'probe', 'signups')).spanContext().spanId)
    const sent = processSpan(names.queue(ns, 'notifications', 'task-send-email'))
    expect(parentOf(sent)).to.equal(derived.spanContext().spanId)
    expect(sent.attributes['messaging.rabbitmq.destination.routing_key']).to.equal(TASK_NOTIFICATIONS_SEND_EMAIL)
  })

  it("the relay's send is a PRODUCER span of its own trace, linked to the stored context of each row it sent", () => {
    const writes = [createSpan('users'), createSpan('probe')]
    for (const write of writes) {
      const sends = exporter.getFinishedSpans().filter((s) =>
        s.kind === SpanKind.PRODUCER && s.name.startsWith('send ') && s.links.some((l) => l.context.spanId === write.spanContext().spanId))
      const send = one(sends, `the send of ${write.attributes['bazaar.service']}'s row`)
      expect(send.spanContext().traceId).to.not.equal(client.traceId)
      expect(send.attributes['messaging.operation.type']).to.equal('send')
      // no consumer span hangs under the relay
      expect(spans.filter((s) => parentOf(s) === send.spanContext().spanId)).to.have.length(0)
    }
  })

  it('the messages on the broker carry the context of their outbox write', async () => {
    const messages = await tap.take(2)
    const registered = one(byKey(messages, USER_REGISTERED), 'user.registered')
    const task = one(byKey(messages, TASK_NOTIFICATIONS_SEND_EMAIL), 'the task')
    expect(traceparentOf(registered)).to.equal(`00-${client.traceId}-${createSpan('users').spanContext().spanId}-01`)
    expect(traceparentOf(task)).to.equal(`00-${client.traceId}-${createSpan('probe').spanContext().spanId}-01`)
  })

  it('an unsampled trace (flags 00) records no span anywhere, and its events still carry its trace id', async () => {
    const unsampled = clientTraceparent()
    const traceparent = unsampled.traceparent.replace(/01$/, '00')
    const user = await register(gateway.url, { traceparent })
    await waitFor(() => smtp.to(user.email).length === 2, { what: 'both emails' })
    const messages = await tap.take(2)
    for (const message of messages) expect(traceparentOf(message)).to.equal(traceparent)
    expect(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === unsampled.traceId)).to.have.length(0)
    // nor was one made: the probe's handler found no active span
    expect(activeSpans[1]).to.equal('none')
  })

  it('a Prometheus scrape or a health probe makes no span', async () => {
    for (const path of ['/metrics', '/health']) expect((await fetch(new URL(path, gateway.url))).status, path).to.equal(200)
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER && s.name.startsWith('GET '))).to.deep.equal([])
  })

  it("a handler runs with its process span as OpenTelemetry's active span (its own spans would be children)", () => {
    expect(activeSpans[0]).to.equal(processSpan(names.queue(ns, 'probe', 'signups')).spanContext().spanId)
  })
})
