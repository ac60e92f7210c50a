import { expect } from 'chai'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { names } from '../../shared/bus/names.ts'
import { ORDER_CREATED } from '../../shared/contracts/index.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { enableTracing } from '../../shared/tracing/provider.ts'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createOrders } from '../../services/orders/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { clientTraceparent } from './support.ts'

/**
 * The issue's case: a trace of `POST /orders` reaches every consumer span of its cascade under one trace
 * id. An order with the goods of two sellers makes one order.created per seller, each consumed by the
 * catalog (what was ordered) and by notifications (the sellers' emails).
 */
describe('tracing on: POST /orders and every consumer span of its cascade, under one trace id', function () {
  this.timeout(30_000)
  const ns = uniqueNamespace('trace_orders')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  const exporter = new InMemorySpanExporter()
  const client = clientTraceparent()
  const buyer = identity('buyer', 'Traced Buyer')
  const sellers = [identity('seller', 'Ada Traced'), identity('seller', 'Bo Traced')]
  const consumers = [names.queue(ns, 'catalog', 'order-events'), names.queue(ns, 'notifications', 'order-events')]
  let turnOff: (() => Promise<void>) | undefined
  let smtp: TestSmtpServer
  let spans: ReadableSpan[] = []

  before(async () => {
    turnOff = enableTracing({ service: 'test', processor: new SimpleSpanProcessor(exporter) })
    smtp = await startSmtpServer()
    const [, catalog, orders] = await apps.startAll([
      createReference(env), createCatalog(env), createOrders(env), createNotifications({ ...env, smtpUrl: smtp.url })
    ])
    const list = async (seller: TestIdentity) => {
      const answer = await call(catalog!.url, 'POST', '/products', {
        token: seller.token, body: { title: `${seller.name}'s goods`, description: '', price: 1_000, currency: 'EUR', stock: 10 }
      })
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201)
      const id = (answer.body as { id: string }).id
      await waitFor(async () => orders!.app.get('db').withSchema(orders!.app.get('schema')).table('products').where({ productId: id }).first(), { what: 'the product in the orders projection' })
      return id
    }
    const products = await Promise.all(sellers.map(list))
    const placed = await call(orders!.url, 'POST', '/orders', {
      token: buyer.token, body: { items: products.map((productId) => ({ productId, quantity: 1 })) }, headers: { traceparent: client.traceparent }
    })
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201)
    spans = await waitFor(() => {
      const found = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === client.traceId)
      return found.filter((s) => s.kind === SpanKind.CONSUMER).length === 4 && found
    }, { what: 'four process spans in the trace' })
  })

  after(async () => {
    await apps.close()
    await smtp?.close()
    await turnOff?.()
  })

  it('the HTTP span, one outbox write per seller under it, and under each write its event\'s two consumers', () => {
    const [request] = spans.filter((s) => s.kind === SpanKind.SERVER && s.name === 'POST /orders')
    expect(request, 'POST /orders span').to.not.equal(undefined)
    expect(request!.parentSpanContext?.spanId).to.equal(client.spanId)
    const writes = spans.filter((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.rabbitmq.destination.routing_key'] === ORDER_CREATED)
    expect(writes).to.have.length(2)
    for (const write of writes) {
      expect(write.parentSpanContext?.spanId).to.equal(request!.spanContext().spanId)
      const children = spans.filter((s) => s.kind === SpanKind.CONSUMER && s.parentSpanContext?.spanId === write.spanContext().spanId)
      expect(children.map((s) => s.attributes['messaging.destination.name']).sort()).to.deep.equal([...consumers].sort())
      for (const child of children) expect(child.attributes['messaging.message.id']).to.equal(write.attributes['messaging.message.id'])
    }
  })

  it('no span of the cascade failed', () => {
    expect(spans.filter((s) => s.status.code === 2).map((s) => s.name)).to.deep.equal([])
  })
})
