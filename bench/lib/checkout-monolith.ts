/**
 * The checkout benchmark's baseline: the same steps as Bazaar's checkout done by one process in one request,
 * calling each step directly, with no events (what a team without a bus would write). `POST /checkout
 * { buyerId, productId, quantity, token }`: reserve the stock and place the order (one transaction), charge the
 * card provider, then record the payment, commit the stock, schedule the delivery and issue the invoice with the
 * seller's next number (a second transaction). Run as its own process: MONOLITH_PORT, BAZAAR_NAMESPACE,
 * DATABASE_URL, CARD_PROVIDER_URL.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { CardProviderClient } from '../../shared/cards/card-provider-client.ts'
import { readEnv } from '../../shared/config/env.ts'
import { createKnex, schemaName } from '../../shared/db/database.ts'
import { migrate, type Migration } from '../../shared/db/migrations.ts'

const monolithMigrations: Migration[] = [
  {
    name: '001_checkout',
    async up(db) {
      await db.schema.createTable('products', (t) => {
        t.uuid('id').primary()
        t.string('sellerId', 128).notNullable()
        t.integer('price').notNullable()
        t.integer('stock').notNullable()
        t.integer('reserved').notNullable().defaultTo(0)
      })
      await db.schema.createTable('orders', (t) => {
        t.uuid('id').primary()
        t.string('buyerId', 128).notNullable()
        t.uuid('productId').notNullable()
        t.integer('quantity').notNullable()
        t.bigInteger('total').notNullable()
        t.string('status', 16).notNullable()
      })
      await db.schema.createTable('payments', (t) => {
        t.uuid('id').primary()
        t.uuid('orderId').notNullable().unique()
        t.string('chargeId', 64).notNullable()
      })
      await db.schema.createTable('deliveries', (t) => {
        t.uuid('id').primary()
        t.uuid('orderId').notNullable()
        t.string('sellerId', 128).notNullable()
      })
      await db.schema.createTable('invoice_counters', (t) => {
        t.string('sellerId', 128).primary()
        t.integer('issued').notNullable()
      })
      await db.schema.createTable('invoices', (t) => {
        t.uuid('id').primary()
        t.uuid('orderId').notNullable()
        t.string('sellerId', 128).notNullable()
        t.integer('number').notNullable()
        t.unique(['sellerId', 'number'])
      })
    }
  }
]

const env = readEnv()
const schema = schemaName(env.namespace, 'monolith')
const db = createKnex(env.databaseUrl, schema, { min: 0, max: 10 })
const provider = new CardProviderClient({ url: process.env.CARD_PROVIDER_URL || 'http://127.0.0.1:3049' })

async function checkout(body: { buyerId: string; productId: string; quantity: number; token: string }): Promise<{ status: number; body: unknown }> {
  const orderId = randomUUID()
  const placed = await db.transaction(async (trx) => {
    const product = await trx.table('products').where({ id: body.productId }).forUpdate().first()
    if (!product || product.stock - product.reserved < body.quantity) return undefined
    await trx.table('products').where({ id: product.id }).increment('reserved', body.quantity)
    const total = product.price * body.quantity
    await trx.table('orders').insert({ id: orderId, buyerId: body.buyerId, productId: product.id, quantity: body.quantity, total, status: 'created' })
    return { sellerId: product.sellerId as string, total }
  })
  if (!placed) return { status: 409, body: { message: 'not enough stock' } }
  const charge = await provider.charge({ idempotencyKey: orderId, token: body.token, amount: placed.total, currency: 'EUR' })
  if (charge.status !== 'captured') return { status: 402, body: { reason: charge.reason } }
  const number = await db.transaction(async (trx) => {
    await trx.table('payments').insert({ id: randomUUID(), orderId, chargeId: charge.chargeId })
    await trx.table('orders').where({ id: orderId }).update({ status: 'paid' })
    await trx.table('products').where({ id: body.productId }).update({ reserved: trx.raw('reserved - ?', [body.quantity]), stock: trx.raw('stock - ?', [body.quantity]) })
    await trx.table('deliveries').insert({ id: randomUUID(), orderId, sellerId: placed.sellerId })
    const [counter] = await trx.table('invoice_counters').insert({ sellerId: placed.sellerId, issued: 1 })
      .onConflict('sellerId').merge({ issued: trx.raw('invoice_counters.issued + 1') }).returning('issued')
    await trx.table('invoices').insert({ id: randomUUID(), orderId, sellerId: placed.sellerId, number: counter.issued })
    return Number(counter.issued)
  })
  return { status: 201, body: { orderId, invoiceNumber: number } }
}

async function readJson(request: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

await migrate(db, schema, monolithMigrations)
const server = createServer((request, response) => {
  if (request.url === '/health') return answer(response, 200, { status: 'ok' })
  if (request.method !== 'POST' || request.url !== '/checkout') return answer(response, 404, { message: 'not found' })
  readJson(request)
    .then(checkout)
    .then((result) => answer(response, result.status, result.body), (err: Error) => answer(response, 500, { message: err.message }))
})
server.listen(Number(process.env.MONOLITH_PORT || 3098), '127.0.0.1')
const stop = () => server.close(() => void db.destroy().then(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
