import { expect } from 'chai'
import { Headers } from '../../shared/bus/headers.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, USER_REGISTERED } from '../../shared/contracts/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { activeTracer } from '../../shared/tracing/provider.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createUsers } from '../../services/users/app.ts'
import { Tap, byKey, clientTraceparent, probeApp, register, traceIdIn, traceparentOf } from './support.ts'

/**
 * Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT), as in most deployments: no span is made, yet the request's
 * W3C trace context travels into every event it causes, derived ones included (the probe's email task,
 * written in a consumer's transaction), as contract.md asks.
 */
describe('tracing off: traceparent still travels from the HTTP request into every event it causes', () => {
  const ns = uniqueNamespace('trace_propagation')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  let smtp: TestSmtpServer
  let gateway: RunningApp
  let users: RunningApp
  let tap: Tap

  before(async () => {
    expect(activeTracer(), 'tracing must be off in this file').to.equal(undefined)
    smtp = await startSmtpServer()
    ;[users] = await apps.startAll([createUsers(env), createNotifications({ ...env, smtpUrl: smtp.url }), probeApp(env)])
    gateway = await apps.start(createGateway(env, { ...process.env, USERS_URL: users.url }))
    tap = await Tap.open(ns, [USER_REGISTERED, TASK_NOTIFICATIONS_SEND_EMAIL])
  })

  after(async () => {
    await tap?.close()
    await apps.close()
    await smtp?.close()
  })

  /** The registration's event and the email task the probe derived from it, both for this user. */
  async function eventsOf(userId: string, email: string) {
    // the welcome email (notifications, on user.registered) and the probe's (notifications, on the derived task)
    await waitFor(() => smtp.to(email).length === 2, { what: 'both emails' })
    const messages = await tap.take(2)
    const registeredEvent = byKey(messages, USER_REGISTERED).find((m) => JSON.parse(m.content.toString()).userId === userId)
    const task = byKey(messages, TASK_NOTIFICATIONS_SEND_EMAIL)[0]
    expect(registeredEvent, 'user.registered on the broker').to.not.equal(undefined)
    expect(task, 'the email task on the broker').to.not.equal(undefined)
    return { registeredEvent: registeredEvent!, task: task! }
  }

  it("a client's traceparent on POST /users (through the gateway): user.registered and the email task it causes carry its trace id", async () => {
    const client = clientTraceparent()
    const user = await register(gateway.url, { traceparent: client.traceparent })
    const { registeredEvent, task } = await eventsOf(user.id, user.email)
    expect(traceIdIn(registeredEvent)).to.equal(client.traceId)
    expect(traceIdIn(task)).to.equal(client.traceId)
    // the derived event is caused by the first: the chain `bazaar trace` follows
    expect(task.properties.headers?.[Headers.causationId]).to.equal(registeredEvent.properties.messageId)
    expect(task.properties.headers?.[Headers.requestId]).to.equal(user.requestId)
  })

  it('a request without traceparent gets a new trace id, and its derived events carry the same one', async () => {
    const user = await register(users.url)
    const { registeredEvent, task } = await eventsOf(user.id, user.email)
    expect(traceparentOf(registeredEvent)).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    expect(traceIdIn(registeredEvent)).to.not.match(/^0+$/)
    expect(traceIdIn(task)).to.equal(traceIdIn(registeredEvent))
  })

  it('a malformed traceparent is ignored: the request gets a trace of its own', async () => {
    const user = await register(users.url, { traceparent: '00-not-a-trace-01' })
    const { registeredEvent, task } = await eventsOf(user.id, user.email)
    expect(traceparentOf(registeredEvent)).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    expect(traceIdIn(task)).to.equal(traceIdIn(registeredEvent))
  })
})
