import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { enqueueTask } from '../../../shared/bus/tasks.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL } from '../../../shared/contracts/tasks.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { digestMail, digestMessageId, type DigestOrder } from '../mailer.ts'

/** The job each digest schedule fires: one per time zone in use (schedules.ts). */
export const SELLER_DIGEST = 'seller-digest'

const digestPayload = Type.Object({ timeZone: Type.String({ minLength: 1 }) }, { additionalProperties: false })

interface DigestRow extends DigestOrder {
  sellerId: string
  email: string
  name: string
  localDate: string
}

/**
 * A fire of a zone's schedule: for every seller in that zone with orders in the seller's local
 * yesterday (the day before the fire's due time, there), one digest email, as a task. The digests
 * row (seller, local date) is written in the job's transaction with the task: a second fire that day,
 * the same fire on another instance or a retried job finds it and enqueues nothing. A seller without
 * orders that day gets nothing.
 */
export function sellerDigests(app: ServiceApp): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('jobs').define(SELLER_DIGEST, {
    payload: digestPayload,
    handler: async (job, trx) => {
      const rows = await yesterdaysOrders(trx, schema, job.payload.timeZone, job.dueAt)
      for (const orders of groupBySeller(rows)) {
        const { sellerId, email, name, localDate } = orders[0]!
        const fresh = await trx
          .withSchema(schema)
          .table('digests')
          .insert({ sellerId, localDate, timeZone: job.payload.timeZone, orderCount: orders.length })
          .onConflict(['sellerId', 'localDate'])
          .ignore()
          .returning('sellerId')
        if (fresh.length === 0) continue
        const mail = digestMail({ email, name }, localDate, job.payload.timeZone, orders)
        await enqueueTask(trx, identity, TASK_NOTIFICATIONS_SEND_EMAIL, { userId: sellerId, ...mail, messageId: digestMessageId(sellerId, localDate) })
      }
    }
  })
}

/**
 * The orders of the zone's sellers placed on the local day before `dueAt` there: from that day's local
 * midnight to the next, which PostgreSQL works out with the zone's rules (a DST day is 23 or 25 hours).
 */
async function yesterdaysOrders(trx: Knex.Transaction, schema: string, timeZone: string, dueAt: Date): Promise<DigestRow[]> {
  const { rows } = await trx.raw<{ rows: Array<DigestRow & { total: string }> }>(
    `with day as (select ((?::timestamptz at time zone ?)::date - 1) as local_date)
     select u.id as "sellerId", u.email, u.name, to_char(day.local_date, 'YYYY-MM-DD') as "localDate",
            o."orderId", o.total, o.currency, o."createdAt"
     from day, ??.users u
     join ??.seller_orders o on o."sellerId" = u.id
     where u.role = 'seller' and u."timeZone" = ?
       and o."createdAt" >= (day.local_date::timestamp at time zone ?)
       and o."createdAt" < ((day.local_date + 1)::timestamp at time zone ?)
     order by u.id, o."createdAt", o."orderId"`,
    [dueAt.toISOString(), timeZone, schema, schema, timeZone, timeZone, timeZone]
  )
  return rows.map((row) => ({ ...row, total: Number(row.total) }))
}

function groupBySeller(rows: DigestRow[]): DigestRow[][] {
  const bySeller = new Map<string, DigestRow[]>()
  for (const row of rows) bySeller.set(row.sellerId, [...(bySeller.get(row.sellerId) ?? []), row])
  return [...bySeller.values()]
}
