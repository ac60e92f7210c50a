import { randomUUID } from 'node:crypto'
import { EventSource } from 'eventsource'
import { Bus } from '../../../shared/bus/bus.ts'
import type { OrderCreated } from '../../../shared/contracts/index.ts'
import { dropNamespaceSchemas, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'
import type { BazaarEnv } from '../../../shared/config/env.ts'

/** One SSE client (the `eventsource` package), collecting what it receives. */
export interface Listener {
  events: Array<{ type: string; id: string; data: any }>
  source: EventSource
  /** what it received of one type */
  of(type: string): Array<{ type: string; id: string; data: any }>
  lastId(): string | undefined
  close(): void
}

const eventTypes = ['order', 'maintenance', 'maintenance-cancelled', 'notice']

export function listen(origin: string, token: string, options: { lastEventId?: string; query?: boolean } = {}): Listener {
  const url = new URL('/events', origin)
  if (options.query) url.searchParams.set('token', token)
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          ...(options.query ? {} : { authorization: `Bearer ${token}` }),
          ...(options.lastEventId && !(init?.headers as Record<string, string>)?.['Last-Event-ID'] ? { 'Last-Event-ID': options.lastEventId } : {})
        }
      })
  })
  const events: Listener['events'] = []
  for (const type of eventTypes) {
    source.addEventListener(type, (event) => events.push({ type, id: event.lastEventId, data: JSON.parse(event.data) }))
  }
  return {
    events,
    source,
    of: (type) => events.filter((e) => e.type === type),
    lastId: () => events.at(-1)?.id,
    close: () => source.close()
  }
}

/** Waits until the stream is open (the server has registered it). */
export function opened(listener: Listener, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => listener.source.readyState === EventSource.OPEN, { timeoutMs, what: 'the stream to open' }).then(() => undefined)
}

/** A producer standing in for the orders service and the CLI: publishes on the bus as they do. */
export async function producer(env: BazaarEnv, service = 'orders'): Promise<Bus> {
  const bus = new Bus({ url: env.amqpUrl, namespace: env.namespace, service })
  await bus.start()
  return bus
}

export function anOrder(sellerId: string, buyerId: string, overrides: Partial<OrderCreated> = {}): OrderCreated {
  return {
    orderId: randomUUID(),
    buyerId,
    sellerId,
    items: [{ productId: randomUUID(), sellerId, title: 'Oak shelf', unitPrice: 4_500, quantity: 2 }],
    total: 9_000,
    currency: 'EUR',
    createdAt: new Date().toISOString(),
    ...overrides
  }
}

/** JSON over HTTP with an optional bearer token. */
export async function call(origin: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(new URL(path, origin), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

/** Registers an appliance for a seller through the API and returns it with its token. */
export async function registerAppliance(origin: string, sellerToken: string, name = 'Printer') {
  const { status, body } = await call(origin, 'POST', '/appliances', sellerToken, { name })
  if (status !== 201) throw new Error(`POST /appliances answered ${status}: ${JSON.stringify(body)}`)
  return body as { id: string; name: string; token: string }
}

/** The env variables tests give the gateway: quick reconnect hints, quick catch-up. */
export const quickGateway: NodeJS.ProcessEnv = { ...process.env, GATEWAY_RETRY_MS: '100', GATEWAY_RETRY_JITTER_MS: '100', GATEWAY_CATCH_UP_INTERVAL_MS: '200' }

/**
 * One gateway for a test file, with a producer on the bus and SSE clients
 * that are closed after each test: `before` and `after` hooks included.
 */
export function gatewayFixture(tag: string, vars: NodeJS.ProcessEnv = quickGateway) {
  const fixture = {
    ns: uniqueNamespace(tag),
    env: undefined as unknown as BazaarEnv,
    running: undefined as unknown as RunningApp,
    bus: undefined as unknown as Bus,
    listeners: [] as Listener[],
    /** opens a stream on this gateway and waits until it is open */
    async open(token: string, options: Parameters<typeof listen>[2] = {}) {
      const listener = listen(fixture.running.url, token, options)
      fixture.listeners.push(listener)
      await opened(listener)
      return listener
    }
  }
  fixture.env = testEnv(fixture.ns)
  before(async () => {
    fixture.running = await startApp(createApp(fixture.env, vars))
    fixture.bus = await producer(fixture.env)
  })
  afterEach(() => {
    for (const listener of fixture.listeners.splice(0)) listener.close()
  })
  after(async () => {
    for (const listener of fixture.listeners) listener.close()
    await fixture.bus?.stop()
    await fixture.running?.stop()
    await new Management().deleteNamespace(fixture.ns)
    await dropNamespaceSchemas(fixture.ns)
  })
  return fixture
}
