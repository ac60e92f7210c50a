import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import knex from 'knex'
import { schemaName } from '../shared/db/database.ts'
import { Management } from '../shared/testing/broker.ts'
import type { ReceivedMail } from '../shared/testing/smtp.ts'
import type { UploadedImport } from './imports.ts'
import { checkoutPassed, verifyCheckout, type CheckoutVerdict } from './verify-checkout.ts'
import { importsPassed, verifyImports, type ImportVerdict } from './verify-imports.ts'

export interface Verdict {
  orders: number
  orderDeliveries: number
  lostReceipts: number
  duplicatedReceipts: number
  unexpectedReceipts: number
  users: number
  lostEmails: number
  duplicatedEmails: number
  missingBalances: number
  missingSegments: number
  deadLettered: number
  checkout: CheckoutVerdict
  imports: ImportVerdict
  details: string[]
}

/** Receipts each appliance printed, by order id: the appliance writes one file per print. */
export function printedReceipts(outDir: string): Map<string, number> {
  const counts = new Map<string, number>()
  if (!existsSync(outDir)) return counts
  for (const file of readdirSync(outDir)) {
    if (!file.endsWith('.txt')) continue
    const text = readFileSync(join(outDir, file), 'utf8')
    const orderId = /order\s*(?:id)?\s*[:#]?\s*([0-9a-f-]{36})/i.exec(text)?.[1] ?? /([0-9a-f]{8}-[0-9a-f-]{27})/i.exec(file)?.[1]
    if (orderId) counts.set(orderId, (counts.get(orderId) ?? 0) + 1)
  }
  return counts
}

/**
 * The promise, counted: every committed order printed once by its seller's
 * appliance; every user one welcome email, one balance, one segment; no dead
 * letter that a fault (rather than bad input) caused; the checkout's counts
 * (verify-checkout.ts) and the imports' (verify-imports.ts).
 */
export async function verify(options: {
  namespace: string
  databaseUrl: string
  applianceDirs: Map<string, string>
  /** distinct welcome emails (by Message-ID) per recipient */
  welcomeEmails: Map<string, number>
  paymentTimeoutMs: number
  /** the uploads the public origin accepted, and every mail the SMTP server received */
  uploadedImports: UploadedImport[]
  mail: ReceivedMail[]
}): Promise<Verdict> {
  const db = knex({ client: 'pg', connection: options.databaseUrl, pool: { min: 0, max: 2 } })
  const schema = (service: string) => schemaName(options.namespace, service)
  const details: string[] = []
  try {
    const orders: Array<{ id: string; sellerIds: string[] }> = await db.withSchema(schema('orders')).table('orders').select('id', 'sellerIds')
    let orderDeliveries = 0
    let lost = 0
    let duplicated = 0
    let unexpected = 0
    const expectedBySeller = new Map<string, Set<string>>()
    for (const order of orders) {
      for (const sellerId of order.sellerIds) {
        if (!expectedBySeller.has(sellerId)) expectedBySeller.set(sellerId, new Set())
        expectedBySeller.get(sellerId)!.add(order.id)
        orderDeliveries += 1
      }
    }
    for (const [sellerId, dir] of options.applianceDirs) {
      const printed = printedReceipts(dir)
      const expected = expectedBySeller.get(sellerId) ?? new Set<string>()
      for (const orderId of expected) {
        const n = printed.get(orderId) ?? 0
        if (n === 0) { lost += 1; details.push(`order ${orderId} never printed for seller ${sellerId}`) }
        if (n > 1) { duplicated += n - 1; details.push(`order ${orderId} printed ${n} times for seller ${sellerId}`) }
      }
      for (const orderId of printed.keys()) {
        if (!expected.has(orderId)) { unexpected += 1; details.push(`seller ${sellerId} printed ${orderId}, not one of its committed orders`) }
      }
    }

    const users: Array<{ id: string; email: string }> = await db.withSchema(schema('users')).table('users').select('id', 'email').whereNot('role', 'admin')
    let lostEmails = 0
    let duplicatedEmails = 0
    for (const user of users) {
      const n = options.welcomeEmails.get(user.email.toLowerCase()) ?? 0
      if (n === 0) { lostEmails += 1; details.push(`no welcome email for ${user.email}`) }
      if (n > 1) { duplicatedEmails += n - 1; details.push(`${n} welcome emails for ${user.email}`) }
    }
    const ids = users.map((u) => u.id)
    const missingIn = async (service: string, table: string) => {
      const rows: Array<{ userId: string }> = await db.withSchema(schema(service)).table(table).select('userId')
      const have = new Set(rows.map((r) => r.userId))
      const missing = ids.filter((id) => !have.has(id))
      for (const id of missing.slice(0, 5)) details.push(`${service}: no ${table} row for user ${id}`)
      return missing.length
    }
    const missingBalances = await missingIn('benefits', 'balances')
    const missingSegments = await missingIn('segments', 'segments')

    const management = new Management()
    const queues = await management.queues(options.namespace)
    let deadLettered = 0
    for (const q of queues.filter((q) => q.name.endsWith('.dlq'))) {
      if (q.messages > 0) { deadLettered += q.messages; details.push(`${q.name} holds ${q.messages} message(s)`) }
    }
    const checkout = await verifyCheckout(db, options.namespace, options.paymentTimeoutMs)
    details.push(...checkout.details)
    const imports = await verifyImports(db, options.namespace, options.uploadedImports, options.mail)
    details.push(...imports.details)
    return {
      orders: orders.length,
      orderDeliveries,
      lostReceipts: lost,
      duplicatedReceipts: duplicated,
      unexpectedReceipts: unexpected,
      users: users.length,
      lostEmails,
      duplicatedEmails,
      missingBalances,
      missingSegments,
      deadLettered,
      checkout: { ...checkout, details: [] },
      imports: { ...imports, details: [] },
      details
    }
  } finally {
    await db.destroy()
  }
}

export function passed(verdict: Verdict): boolean {
  return (
    verdict.lostReceipts === 0 && verdict.duplicatedReceipts === 0 && verdict.unexpectedReceipts === 0 &&
    verdict.lostEmails === 0 && verdict.duplicatedEmails === 0 &&
    verdict.missingBalances === 0 && verdict.missingSegments === 0 && verdict.deadLettered === 0 &&
    checkoutPassed(verdict.checkout) && importsPassed(verdict.imports)
  )
}
