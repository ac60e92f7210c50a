import { randomUUID } from 'node:crypto'
import { call, callUntilOk } from './client.ts'
import { ImportLoad } from './imports.ts'
import { PacedWork, countFailure } from './paced.ts'

export interface Seller {
  id: string
  email: string
  token: string
  productIds: string[]
  /** the seller's product with little stock (the first of productIds) */
  scarceProductId: string
  applianceToken: string
}

interface Buyer {
  id: string
  token: string
}

export interface LoadStats {
  registrationsTried: number
  registrationsOk: number
  ordersTried: number
  ordersOk: number
  /** payments accepted (202), counting a second one after a declined card */
  paymentsAccepted: number
  /** orders left unpaid on purpose: their payment deadline cancels them */
  ordersLeftUnpaid: number
  failures: Record<string, number>
}

/**
 * How a placed order is paid: mostly `tok_ok`, some `tok_flaky` (errors, then a late capture the payments service
 * must find again by its key) and `tok_declined` followed by a second payment with `tok_ok`; a few are left
 * unpaid so their deadline cancels them (and a payment racing it is refunded).
 */
function paymentPlan(): string[] {
  const roll = Math.random()
  if (roll < 0.04) return []
  if (roll < 0.14) return ['tok_flaky']
  if (roll < 0.22) return ['tok_declined', 'tok_ok']
  return ['tok_ok']
}

/**
 * CHAOS_IMPORT_EVERY_SECONDS and CHAOS_IMPORT_ROWS, else the profile's defaults (20 s and 1,200 rows, three chunks
 * of the default 500, unless the profile says otherwise).
 */
export function importsFromEnv(defaults = { seconds: 20, rows: 1_200 }): { ms: number; rows: number } {
  return {
    ms: 1_000 * Number(process.env.CHAOS_IMPORT_EVERY_SECONDS || defaults.seconds),
    rows: Number(process.env.CHAOS_IMPORT_ROWS || defaults.rows)
  }
}

/** Registers a user and logs in, retrying through faults (set-up must succeed). */
export async function registerAndLogin(base: string, role: 'buyer' | 'seller', tag: string) {
  const email = `${tag}-${randomUUID().slice(0, 8)}@chaos.example.com`
  const password = `pw-${randomUUID()}`
  const user = await callUntilOk(base, 'POST', '/users', { email, password, name: tag, role })
  const auth = await callUntilOk(base, 'POST', '/authentication', { strategy: 'local', email, password })
  return { id: user.id as string, email, token: auth.accessToken as string }
}

/**
 * Sellers with products and one appliance each. Every product has stock enough for the whole run but the
 * first of each seller, which has `scarceStock` units: orders for it meet the limit (409) once they are
 * held, and a cancelled order gives its units back.
 */
export async function prepareSellers(base: string, count: number, productsEach: number, scarceStock = 100): Promise<Seller[]> {
  const sellers: Seller[] = []
  for (let i = 0; i < count; i++) {
    const seller = await registerAndLogin(base, 'seller', `seller${i}`)
    const productIds: string[] = []
    for (let p = 0; p < productsEach; p++) {
      const product = await callUntilOk(base, 'POST', '/products', {
        title: `Chaos item ${i}.${p}`, description: 'sturdy', price: 100 + p, currency: 'EUR', stock: p === 0 ? scarceStock : 1_000_000
      }, seller.token)
      productIds.push(product.id)
    }
    const appliance = await callUntilOk(base, 'POST', '/appliances', { name: `printer ${i}` }, seller.token)
    sellers.push({ ...seller, productIds, scarceProductId: productIds[0]!, applianceToken: appliance.token })
  }
  return sellers
}

/**
 * Registers buyers and places orders at a steady rate until stopped. What it
 * was told (2xx or not) is only for the report: the databases are the truth
 * the checks use, since a request cut by a fault may still have committed.
 */
export class LoadGenerator {
  readonly stats: LoadStats = { registrationsTried: 0, registrationsOk: 0, ordersTried: 0, ordersOk: 0, paymentsAccepted: 0, ordersLeftUnpaid: 0, failures: {} }
  /** the sellers' product files, uploaded beside the orders */
  readonly imports: ImportLoad
  private buyers: Buyer[] = []
  private readonly paced = new PacedWork(() => this.step())
  private tick = 0

  constructor(
    private readonly base: string,
    private readonly sellers: Seller[],
    private readonly ordersPerMinute: number,
    private readonly usersEvery = 3,
    importEvery: { ms: number; rows: number } = importsFromEnv()
  ) {
    this.imports = new ImportLoad(base, sellers, importEvery.ms, importEvery.rows)
  }

  start(): void {
    const interval = Math.max(20, Math.round(60_000 / this.ordersPerMinute))
    this.paced.start(interval)
    this.imports.start()
  }

  async stop(): Promise<void> {
    await Promise.all([this.paced.stop(), this.imports.stop()])
  }

  private step(): Promise<void> {
    this.tick += 1
    return this.buyers.length === 0 || this.tick % this.usersEvery === 0 ? this.register() : this.order()
  }

  private fail(what: string, status: number): void {
    countFailure(this.stats.failures, what, status)
  }

  private async register(): Promise<void> {
    this.stats.registrationsTried += 1
    const email = `buyer-${randomUUID().slice(0, 10)}@chaos.example.com`
    const password = `pw-${randomUUID()}`
    const created = await call(this.base, 'POST', '/users', { email, password, name: 'Chaos Buyer', role: 'buyer' })
    if (created.status !== 201) return this.fail('register', created.status)
    this.stats.registrationsOk += 1
    const auth = await call(this.base, 'POST', '/authentication', { strategy: 'local', email, password })
    if (auth.status === 201) this.buyers.push({ id: created.body.id, token: auth.body.accessToken })
    else this.fail('login', auth.status)
  }

  private async order(): Promise<void> {
    this.stats.ordersTried += 1
    const buyer = this.buyers[Math.floor(Math.random() * this.buyers.length)]!
    // One or two sellers per order: order.created is per seller.
    const chosen = [...this.sellers].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 2))
    const items = chosen.map((seller) => ({
      productId: seller.productIds[Math.floor(Math.random() * seller.productIds.length)]!,
      quantity: 1 + Math.floor(Math.random() * 3)
    }))
    let answer = await call(this.base, 'POST', '/orders', { items }, buyer.token)
    // sold out: the buyer takes another of the seller's products instead, as a shop's client would (the 409 is
    // counted), so the orders that meet the limit still become orders to pay
    const instead = chosen.map((seller, i) => seller.scarceProductId === items[i]!.productId
      ? { ...items[i]!, productId: seller.productIds[1 + Math.floor(Math.random() * (seller.productIds.length - 1))]! }
      : items[i]!)
    if (answer.status === 409 && instead.some((item, i) => item !== items[i])) {
      this.fail('order', 409)
      answer = await call(this.base, 'POST', '/orders', { items: instead }, buyer.token)
    }
    if (answer.status !== 201) return this.fail('order', answer.status)
    this.stats.ordersOk += 1
    const cards = paymentPlan()
    if (cards.length === 0) this.stats.ordersLeftUnpaid += 1
    for (const [i, card] of cards.entries()) {
      const accepted = await this.pay(answer.body.id, card, buyer.token)
      // a declined card is followed by the next one only once its failure is known
      if (accepted && i < cards.length - 1) await this.settled(accepted, buyer.token)
    }
  }

  /**
   * One payment, its Idempotency-Key kept across retries: a request cut by a fault is sent again with the same
   * key, as a client should, and never charges twice. Returns the payment's id once accepted.
   */
  private async pay(orderId: string, card: string, token: string): Promise<string | undefined> {
    const key = randomUUID()
    for (let attempt = 0; attempt < 6; attempt++) {
      const answer = await call(this.base, 'POST', '/payments', { orderId, card: { token: card } }, token, { 'idempotency-key': key })
      if (answer.status === 202) {
        this.stats.paymentsAccepted += 1
        return answer.body.id
      }
      if (answer.status !== 0 && answer.status < 500 && answer.status !== 404) {
        this.fail('payment', answer.status)
        return undefined
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
    this.fail('payment', 0)
    return undefined
  }

  /** Waits (bounded) until a payment is no longer pending. */
  private async settled(paymentId: string, token: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      const answer = await call(this.base, 'GET', `/payments/${paymentId}`, undefined, token)
      if (answer.status === 200 && answer.body.status !== 'pending') return
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
