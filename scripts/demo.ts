/**
 * `npm run demo`: a walk through Bazaar against a running stack (`npm start`),
 * for a newcomer. It does what a seller and a buyer would do, through the
 * public origin only, and after each step shows what happened because of it:
 * the events on the broker (watched from a temporary queue of its own) and
 * their effects in the services that consume them. Every wait is bounded.
 *
 *   BAZAAR_URL        the public origin (default http://127.0.0.1:3030)
 *   AMQP_URL, BAZAAR_NAMESPACE   where to watch the events (as for npm start)
 */
import { randomUUID } from 'node:crypto'
import amqp from 'amqplib'
import { readEnv, redactUrl } from '../shared/config/env.ts'
import { names } from '../shared/bus/names.ts'
import { Management } from '../shared/testing/broker.ts'

const base = process.env.BAZAAR_URL || 'http://127.0.0.1:3030'
const env = readEnv()
const waitMs = Number(process.env.DEMO_WAIT_MS || 10_000)
const run = randomUUID().slice(0, 8)

// ---------------------------------------------------------------- output

const tty = process.stdout.isTTY
const paint = (code: number) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text)
const bold = paint(1)
const dim = paint(2)
const green = paint(32)
const yellow = paint(33)
const cyan = paint(36)

let stepNumber = 0
const step = (title: string, why: string) => {
  stepNumber += 1
  console.log(`\n${bold(`${stepNumber}. ${title}`)}`)
  console.log(dim(`   ${why}`))
}
const show = (line: string) => console.log(`   ${line}`)
const effect = (line: string) => console.log(`   ${green('✓')} ${line}`)
const missing = (line: string) => console.log(`   ${yellow('…')} ${line}`)
const compact = (value: unknown) => JSON.stringify(value)

// ---------------------------------------------------------------- HTTP

interface Reply { status: number; body: any }

async function http(method: string, path: string, options: { token?: string; body?: unknown; requestId?: string; quiet?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.requestId) headers['x-request-id'] = options.requestId
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(waitMs)
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON
  }
  if (!options.quiet) {
    const request = options.requestId ? dim(`  X-Request-Id: ${options.requestId}`) : ''
    show(`${cyan(`${method} ${path}`)} → ${response.status}${request}`)
  }
  return { status: response.status, body }
}

/** A step the rest depends on: stop with the service's own answer if it did not work. */
function must(reply: Reply, status: number, what: string): any {
  if (reply.status === status) return reply.body
  console.error(`\n${what} failed: HTTP ${reply.status} ${compact(reply.body)}`)
  console.error('Is every service up? `npm start` prints which ones it started.')
  process.exit(1)
}

/** Asks again until the probe has an answer, at most `waitMs`. */
async function poll<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) return undefined
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

// ---------------------------------------------------------------- the broker, watched

interface Seen { routingKey: string; appId?: string; requestId?: string; payload: any }

/** A temporary queue bound to every event of the namespace: what the demo shows as "on the bus". */
class BusWatch {
  readonly seen: Seen[] = []
  private connection?: amqp.ChannelModel

  async open(): Promise<boolean> {
    try {
      this.connection = await amqp.connect(env.amqpUrl)
      const channel = await this.connection.createChannel()
      const exchange = names.eventsExchange(env.namespace)
      await channel.checkExchange(exchange)
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true })
      await channel.bindQueue(queue, exchange, '#')
      await channel.consume(queue, (message) => {
        if (!message) return
        this.seen.push({
          routingKey: message.fields.routingKey,
          appId: message.properties.appId,
          requestId: message.properties.headers?.['x-request-id'],
          payload: JSON.parse(message.content.toString('utf8'))
        })
      }, { noAck: true })
      return true
    } catch (err) {
      missing(`cannot watch ${names.eventsExchange(env.namespace)} at ${redactUrl(env.amqpUrl)} (${(err as Error).message}); events are not shown`)
      await this.close()
      return false
    }
  }

  /** Waits for `count` events that match, prints them, returns them. */
  async expect(routingKey: string, match: (payload: any) => boolean, describe: (e: Seen) => string, count = 1): Promise<Seen[]> {
    if (!this.connection) return []
    const found = await poll(async () => {
      const hits = this.seen.filter((e) => e.routingKey === routingKey && match(e.payload))
      return hits.length >= count ? hits : undefined
    })
    if (!found) {
      missing(`${routingKey}: not seen within ${waitMs / 1000}s`)
      return []
    }
    for (const event of found) {
      const request = event.requestId ? dim(` x-request-id=${event.requestId}`) : ''
      show(`${yellow('⚡')} ${bold(event.routingKey)} from ${event.appId}${request}  ${describe(event)}`)
    }
    return found
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => {})
    this.connection = undefined
  }
}

// ---------------------------------------------------------------- the walk

console.log(bold('Bazaar, step by step'))
console.log(dim(`Against ${base}. Each service keeps its own data and reacts to the others only through events on RabbitMQ`))
console.log(dim(`(exchange ${names.eventsExchange(env.namespace)}): a change and its event commit together (outbox), consumers apply each event once (inbox).`))

const health = await http('GET', '/health', { quiet: true }).catch((err: Error) => ({ status: 0, body: err.message }))
if (health.status !== 200) {
  console.error(`\nNo healthy Bazaar at ${base} (${health.status || health.body}).`)
  console.error('Start it in another terminal with `npm start`, or point BAZAAR_URL at one.')
  process.exit(1)
}

const bus = new BusWatch()
await bus.open()

try {
  step('Register a seller and a buyer', 'POST /users on the users service; it emits user.registered through its outbox.')
  const password = `demo-${run}-secret`
  const people = {
    seller: { email: `seller.${run}@demo.bazaar.test`, name: `Sam Seller ${run}`, role: 'seller' },
    buyer: { email: `buyer.${run}@demo.bazaar.test`, name: `Bea Buyer ${run}`, role: 'buyer' }
  }
  const seller = must(await http('POST', '/users', { body: { ...people.seller, password } }), 201, 'registering the seller')
  const buyer = must(await http('POST', '/users', { body: { ...people.buyer, password } }), 201, 'registering the buyer')
  show(`seller ${seller.id} <${seller.email}>, buyer ${buyer.id} <${buyer.email}>`)
  await bus.expect('user.registered', (p) => p.userId === seller.id || p.userId === buyer.id, (e) => `${e.payload.email} as ${e.payload.role}`, 2)

  step('Log in', 'POST /authentication returns a JWT; a Feathers hook on login stamps lastLoginAt (an in-service event).')
  const sellerToken = must(await http('POST', '/authentication', { body: { strategy: 'local', email: seller.email, password } }), 201, 'the seller logging in').accessToken as string
  const buyerToken = must(await http('POST', '/authentication', { body: { strategy: 'local', email: buyer.email, password } }), 201, 'the buyer logging in').accessToken as string
  const me = await http('GET', `/users/${buyer.id}`, { token: buyerToken })
  if (me.body?.lastLoginAt) effect(`buyer's lastLoginAt = ${me.body.lastLoginAt}`)
  else missing(`no lastLoginAt on the buyer (${compact(me.body)})`)

  step('What user.registered caused elsewhere', 'notifications (bound to user.#) sent a welcome email; benefits opened a points balance; segments assigned a segment.')
  for (const [who, user, token] of [['buyer', buyer, buyerToken], ['seller', seller, sellerToken]] as const) {
    const email = await poll(async () => {
      const r = await http('GET', `/notifications?userId=${user.id}`, { token, quiet: true })
      return r.status === 200 && r.body.data?.length ? r.body.data[0] : undefined
    })
    if (email) effect(`${who}: ${email.kind} email to ${email.to}: "${email.subject}" (sent ${email.sentAt})`)
    else missing(`${who}: no email listed by GET /notifications within ${waitMs / 1000}s (is notifications running, with an SMTP server at ${redactUrl(env.smtpUrl)}?)`)
  }
  const balance = await poll(async () => {
    const r = await http('GET', `/balances/${buyer.id}`, { token: buyerToken, quiet: true })
    return r.status === 200 ? r.body : undefined
  })
  if (balance) effect(`buyer's balance: ${balance.points} welcome points (GET /balances/${buyer.id})`)
  else missing(`no balance from GET /balances/${buyer.id} within ${waitMs / 1000}s (is benefits running?)`)
  const segment = await poll(async () => {
    const r = await http('GET', `/segments/${buyer.id}`, { token: buyerToken, quiet: true })
    return r.status === 200 ? r.body : undefined
  })
  if (segment) effect(`buyer's segment: ${segment.segment} (GET /segments/${buyer.id})`)
  else missing(`no segment from GET /segments/${buyer.id} within ${waitMs / 1000}s (is segments running?)`)

  step('The seller lists a T-shirt with two sizes', 'POST /products on the catalog: a parent, then two children pointing at it. Each is a product.created.')
  const product = { description: 'Soft cotton', price: 1_500, currency: 'EUR', stock: 20 }
  const parent = must(await http('POST', '/products', { token: sellerToken, body: { ...product, title: 'T-shirt' } }), 201, 'creating the parent product')
  const small = must(await http('POST', '/products', { token: sellerToken, body: { ...product, title: 'T-shirt', stock: 5, parentId: parent.id } }), 201, 'creating a child product')
  const large = must(await http('POST', '/products', { token: sellerToken, body: { ...product, title: 'T-shirt', stock: 3, parentId: parent.id } }), 201, 'creating a child product')
  const ours = new Set([parent.id, small.id, large.id])
  await bus.expect('product.created', (p) => ours.has(p.productId), (e) => `${e.payload.productId === parent.id ? 'parent' : 'child '} ${e.payload.title} ${e.payload.price} ${e.payload.currency}, stock ${e.payload.stock}, v${e.payload.version}`, 3)

  step('The seller renames the parent and lowers its price', 'PATCH /products/:id. A hook copies the shared fields (title, description, price, currency) to every child in the same transaction; each child emits its own product.updated carrying the same request id.')
  const patchId = `demo-patch-${run}`
  must(await http('PATCH', `/products/${parent.id}`, { token: sellerToken, requestId: patchId, body: { title: 'Organic T-shirt', price: 1_200 } }), 200, 'patching the parent')
  for (const child of [small, large]) {
    const now = (await http('GET', `/products/${child.id}`)).body
    effect(`child ${child.id.slice(0, 8)}: "${now.title}" ${now.price} ${now.currency} (stock ${now.stock}, its own), version ${now.version}`)
  }
  await bus.expect('product.updated', (p) => ours.has(p.productId), (e) => `${e.payload.productId === parent.id ? 'parent' : 'child '} "${e.payload.title}" ${e.payload.price}, v${e.payload.version}`, 3)

  step('Orders catches up', 'Orders never calls the catalog: it keeps its own projection of products, built from product.* events. We wait until its queue is drained.')
  const queue = names.queue(env.namespace, 'orders', 'product-events')
  const drained = await poll(async () => {
    const q = await new Management().queue(queue)
    return q && q.messages === 0 ? q : undefined
  })
  if (drained) effect(`${queue}: 0 messages waiting, ${drained.consumers} consumer(s)`)
  else missing(`${queue} not drained within ${waitMs / 1000}s (is orders running?)`)

  step('The buyer orders both sizes', 'POST /orders is priced from the projection (the new price), takes the projected stock, and emits order.created once per seller, with that seller\'s lines only.')
  const orderId = `demo-order-${run}`
  const items = [{ productId: small.id, quantity: 2 }, { productId: large.id, quantity: 1 }]
  const order = must(await http('POST', '/orders', { token: buyerToken, requestId: orderId, body: { items } }), 201, 'placing the order')
  for (const line of order.items) show(`${line.quantity} × "${line.title}" at ${line.unitPrice} from seller ${line.sellerId.slice(0, 8)}`)
  effect(`order ${order.id}: ${order.status}, total ${order.total} ${order.currency}`)
  await bus.expect('order.created', (p) => p.orderId === order.id, (e) => `for seller ${e.payload.sellerId.slice(0, 8)}: ${e.payload.items.length} line(s), total ${e.payload.total} ${e.payload.currency}`)

  step('Who may read the order', 'The buyer reads their own; the seller reads orders holding their items (only their lines); anyone else is refused.')
  const asSeller = await http('GET', `/orders/${order.id}`, { token: sellerToken })
  if (asSeller.status === 200) effect(`the seller sees ${asSeller.body.items.length} line(s), total ${asSeller.body.total}`)
  const stranger = must(await http('POST', '/users', { quiet: true, body: { email: `other.${run}@demo.bazaar.test`, name: 'Someone Else', role: 'buyer', password } }), 201, 'registering another buyer')
  const strangerToken = must(await http('POST', '/authentication', { quiet: true, body: { strategy: 'local', email: stranger.email, password } }), 201, 'another buyer logging in').accessToken
  const refused = await http('GET', `/orders/${order.id}`, { token: strangerToken })
  effect(`another buyer gets ${refused.status} ${refused.body?.name ?? ''}`)

  step('The buyer opens a claim', 'POST /claims by the order\'s buyer emits claim.opened.')
  const claim = must(await http('POST', '/claims', { token: buyerToken, body: { orderId: order.id, reason: 'The small one is too small' } }), 201, 'opening a claim')
  await bus.expect('claim.opened', (p) => p.claimId === claim.id, (e) => `"${e.payload.reason}"`)

  console.log(`\n${bold('Done.')} Follow one request through every service's JSON logs by its id, e.g. grep ${patchId} (the parent patch and both children)`)
  console.log(`or ${orderId}. The broker's view: http://${new URL(env.amqpUrl).hostname}:15672 (queues ${env.namespace}.*).`)
} finally {
  await bus.close()
}
