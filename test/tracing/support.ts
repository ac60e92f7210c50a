import { randomUUID } from 'node:crypto'
import { trace } from '@opentelemetry/api'
import { expect } from 'chai'
import type { GetMessage } from 'amqplib'
import { names } from '../../shared/bus/names.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { enqueueTask } from '../../shared/bus/tasks.ts'
import type { BazaarEnv } from '../../shared/config/env.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, USER_REGISTERED } from '../../shared/contracts/index.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { call } from '../../shared/testing/http.ts'
import { RawBroker } from '../bus/support.ts'

/** A queue of the test's namespace bound to the events exchange: what the broker carried, headers and all. */
export class Tap {
  private constructor(private readonly raw: RawBroker, readonly queue: string) {}

  static async open(namespace: string, routingKeys: string[]): Promise<Tap> {
    const raw = await RawBroker.open()
    const queue = `${namespace}.test.tap-${randomUUID().slice(0, 8)}`
    await raw.channel.assertQueue(queue, { durable: false, autoDelete: false })
    for (const key of routingKeys) await raw.channel.bindQueue(queue, names.eventsExchange(namespace), key)
    return new Tap(raw, queue)
  }

  /** Waits for `count` messages and returns them (acked). */
  take(count: number): Promise<GetMessage[]> {
    return this.raw.takeExactly(this.queue, count)
  }

  async close(): Promise<void> {
    await this.raw.channel.deleteQueue(this.queue).catch(() => {})
    await this.raw.close()
  }
}

export const traceparentOf = (message: GetMessage) => (message.properties.headers ?? {}).traceparent as string | undefined
export const traceIdIn = (message: GetMessage) => traceparentOf(message)?.slice(3, 35)
export const byKey = (messages: GetMessage[], key: string) => messages.filter((m) => m.fields.routingKey === key)

/** A client's W3C traceparent with a fresh trace id. */
export function clientTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = randomUUID().replace(/-/g, '')
  const spanId = randomUUID().replace(/-/g, '').slice(0, 16)
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId }
}

/** Registers a user through `base` (a service or the gateway), sending `headers`; returns its id and the request id. */
export async function register(base: string, headers: Record<string, string> = {}): Promise<{ id: string; email: string; requestId: string }> {
  const email = `traced.${randomUUID().slice(0, 8)}@example.com`
  const answer = await call(base, 'POST', '/users', { body: { email, password: 'long-enough-pw', name: 'Traced User', role: 'buyer' }, headers })
  expect(answer.status, JSON.stringify(answer.body)).to.equal(201)
  return { id: (answer.body as { id: string }).id, email, requestId: answer.headers.get('x-request-id')! }
}

/**
 * A service that derives an event from another, as a real one does: on `user.registered` it enqueues an
 * email task (`task.notifications.send-email`) inside its handler's transaction, which notifications sends.
 * So a registration causes a chain of two events, the second written by a consumer. `activeSpans` receives the
 * id of OpenTelemetry's active span in each run of the handler (none when tracing is off).
 */
export function probeApp(env: BazaarEnv, activeSpans: string[] = []): ServiceApp {
  const app = createServiceApp({ service: 'probe', env, migrations: [] })
  const db = app.get('db')
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: 'probe', schema }
  app.get('bus').consumer({
    service: 'probe', purpose: 'signups', bindings: [USER_REGISTERED], retry: { kind: 'delayed', delaysMs: [50] },
    handlers: {
      [USER_REGISTERED]: idempotent<typeof USER_REGISTERED>({ db, schema, consumer: 'signups' }, async (message, trx) => {
        const { userId, email } = message.payload
        activeSpans.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none')
        await enqueueTask(trx, identity, TASK_NOTIFICATIONS_SEND_EMAIL, {
          userId, kind: 'welcome', to: email, subject: 'From the probe', text: 'A derived email.', messageId: `<${message.id}@probe.test>`
        })
      })
    }
  })
  return app
}
