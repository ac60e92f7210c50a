import type { Command } from 'commander'
import type { Knex } from 'knex'
import { schemaName } from '../../shared/db/database.ts'
import { contextOf, type CliContext } from '../lib/context.ts'
import { withDatabase } from '../lib/database.ts'
import { CliError, usageError } from '../lib/errors.ts'
import { printJson, printTable, type OutputOptions } from '../lib/output.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Where one order's checkout stands: the process manager's state and log, and what the other services did for it. */
export interface SagaReport {
  order: { id: string; buyerId: string; status: string; total: number; currency: string; sellers: string[]; createdAt: string; paidAt: string | null; cancelledAt: string | null; cancelReason: string | null; fulfilledAt: string | null }
  /** why it is where it is, and what it waits for */
  standing: string
  paymentDeadline: string | null
  steps: Array<{ at: string; step: string; detail: Record<string, unknown> }>
  payments: Array<Record<string, unknown>> | null
  deliveries: Array<Record<string, unknown>> | null
  invoices: Array<Record<string, unknown>> | null
}

export function registerSaga(program: Command): void {
  const saga = program.command('saga').description("the checkout's process manager: where an order stands and why")
  saga
    .command('show')
    .description("an order's checkout: its state, what it waits for, every step taken (and why), its payments, deliveries and invoices")
    .argument('<orderId>', 'the order (a UUID)')
    .option('--json', 'print JSON')
    .action(async (orderId: string, options: OutputOptions, command: Command) => {
      if (!uuid.test(orderId)) throw usageError(`"${orderId}" is not an order id (a UUID)`)
      const context = contextOf(command)
      const report = await withDatabase(context.env.databaseUrl, (db) => sagaReport(db, context, orderId))
      if (options.json) return printJson({ namespace: context.namespace, ...report })
      print(report)
    })
}

const iso = (value: unknown) => (value ? new Date(value as string).toISOString() : null)

async function tableExists(db: Knex, schema: string, table: string): Promise<boolean> {
  const { rows } = await db.raw('select to_regclass(?) as found', [`"${schema}"."${table}"`])
  return Boolean(rows[0]?.found)
}

/** Rows of another service's table when that service is deployed in the namespace, else null. */
async function rowsIfDeployed(db: Knex, schema: string, table: string, orderId: string, order: string, columns: string[]): Promise<Array<Record<string, unknown>> | null> {
  if (!(await tableExists(db, schema, table))) return null
  return db.withSchema(schema).table(table).where({ orderId }).orderBy(order).select(columns)
}

export async function sagaReport(db: Knex, context: CliContext, orderId: string): Promise<SagaReport> {
  const orders = schemaName(context.namespace, 'orders')
  if (!(await tableExists(db, orders, 'checkout_steps'))) throw new CliError(`namespace ${context.namespace} has no checkout (schema ${orders}): is the orders service deployed and migrated?`)
  const row = await db.withSchema(orders).table('orders').where({ id: orderId }).first()
  if (!row) throw new CliError(`no order ${orderId} in namespace ${context.namespace}`)
  const steps = (await db.withSchema(orders).table('checkout_steps').where({ orderId }).orderBy('id'))
    .map((s) => ({ at: iso(s.at)!, step: s.step as string, detail: s.detail as Record<string, unknown> }))
  const deadline = await db.withSchema(orders).table('jobs').where({ name: 'order-payment-deadline', key: orderId, state: 'pending' }).first('run_at')
  const shipped = new Set((await db.withSchema(orders).table('order_shipments').where({ orderId })).map((s) => s.sellerId as string))
  const sellers = [...new Set((row.sellerIds as string[]) ?? [])]
  const order = {
    id: row.id, buyerId: row.buyerId, status: row.status, total: Number(row.total), currency: row.currency, sellers,
    createdAt: iso(row.createdAt)!, paidAt: iso(row.paidAt), cancelledAt: iso(row.cancelledAt), cancelReason: row.cancelReason ?? null, fulfilledAt: iso(row.fulfilledAt)
  }
  const paymentDeadline = iso(deadline?.run_at)
  const failures = steps.filter((s) => s.step === 'payment-failed').length
  const standing = {
    created: `waiting for its payment${paymentDeadline ? ` until ${paymentDeadline}, then cancelled` : ''}${failures ? ` (${failures} payment${failures > 1 ? 's' : ''} failed so far)` : ''}; its stock is reserved`,
    paid: `paid; waiting for ${sellers.filter((s) => !shipped.has(s)).length} of ${sellers.length} deliveries to ship`,
    fulfilled: `fulfilled: every seller's delivery shipped`,
    cancelled: `cancelled (${order.cancelReason ?? 'unknown reason'}); its reservation was released, and a capture for it is refunded by payments`
  }[order.status as 'created'] ?? `status ${order.status}`
  return {
    order,
    standing,
    paymentDeadline,
    steps,
    // what an operator needs, never the card token
    payments: await rowsIfDeployed(db, schemaName(context.namespace, 'payments'), 'payments', orderId, 'createdAt', ['id', 'status', 'amount', 'currency', 'reason', 'chargeId', 'refundId', 'createdAt', 'settledAt']),
    deliveries: await rowsIfDeployed(db, schemaName(context.namespace, 'fulfilment'), 'deliveries', orderId, 'sellerId', ['id', 'sellerId', 'status', 'shippedAt']),
    invoices: await rowsIfDeployed(db, schemaName(context.namespace, 'fulfilment'), 'invoices', orderId, 'sellerId', ['id', 'sellerId', 'number', 'total', 'currency', 'issuedAt'])
  }
}

const brief = (detail: Record<string, unknown>) => Object.entries(detail).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')

function print(report: SagaReport): void {
  const { order } = report
  const say = (line: string) => process.stdout.write(`${line}\n`)
  say(`order ${order.id}: ${order.status}, ${order.total} ${order.currency}, buyer ${order.buyerId}, ${order.sellers.length} seller(s)`)
  say(report.standing)
  printTable(['at', 'step', 'detail'], report.steps.map((s) => [s.at, s.step, brief(s.detail)]), { title: 'steps' })
  if (report.payments) printTable(['payment', 'status', 'amount', 'reason'], report.payments.map((p) => [p.id as string, p.status as string, `${p.amount} ${p.currency}`, (p.reason as string) ?? '']), { title: 'payments', empty: 'no payment yet' })
  if (report.deliveries) printTable(['delivery', 'seller', 'status'], report.deliveries.map((d) => [d.id as string, d.sellerId as string, d.status as string]), { title: 'deliveries', empty: 'none (issued once the order is paid)' })
  if (report.invoices) printTable(['invoice', 'seller', 'number', 'total'], report.invoices.map((i) => [i.id as string, i.sellerId as string, i.number as number, `${i.total} ${i.currency}`]), { title: 'invoices', empty: 'none (issued once the order is paid)' })
}
