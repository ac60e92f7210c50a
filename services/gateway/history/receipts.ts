import type { Knex } from 'knex'
import { ident, statementName, withConnection } from '../../../shared/bus/sql.ts'
import { ORDER_CREATED } from '../../../shared/contracts/index.ts'
import type { RecordedEvent } from './audiences.ts'
import { allPages } from './rows.ts'

/**
 * Appliances' receipts of their sellers' orders: an order an appliance has not
 * acknowledged is sent to it on every connect until it does (a join against
 * the receipts, which a log alone cannot answer).
 */
export class ReceiptStore {
  private readonly acknowledgeStatement: { name: string; text: string }

  constructor(
    private readonly db: Knex,
    private readonly schema: string
  ) {
    this.acknowledgeStatement = acknowledgeStatement(schema)
  }

  /** Records an appliance's receipt of an order; nothing if that order was never for its seller. */
  async acknowledge(appliance: { id: string; sellerId: string }, orderId: string): Promise<{ ackedAt: Date } | undefined> {
    // One round trip (an appliance acknowledges every order it prints): the order must be its seller's;
    // the first acknowledgement is kept, and a repeated one answers it. A statement prepared once per
    // connection: at hundreds of receipts a second, planning it cost more than running it.
    const { rows } = await withConnection(this.db, (client) =>
      client.query<{ found: boolean; acked_at: Date | null }>({ ...this.acknowledgeStatement, values: [appliance.sellerId, orderId, appliance.id] })
    )
    const row = rows[0]
    if (!row?.found || !row.acked_at) return undefined
    return { ackedAt: new Date(row.acked_at) }
  }

  /** The order.created events of the appliance's seller since `from` that it has not acknowledged, in id order. */
  async unacknowledged(appliance: { applianceId: string; sellerId: string }, from: Date): Promise<RecordedEvent[]> {
    return allPages(() =>
      this.db(`${this.schema}.events as e`)
        .where('e.routing_key', ORDER_CREATED)
        .where('e.seller_id', appliance.sellerId)
        .where('e.created_at', '>=', from)
        .whereNotExists((r) => r.from(`${this.schema}.receipts`).where('appliance_id', appliance.applianceId).whereRaw('order_id = e.order_id'))
    )
  }
}

/**
 * An appliance's acknowledgement, prepared once per connection. The routing key is written out, not a
 * parameter: the plan PostgreSQL keeps for a prepared statement can then use the partial index on
 * (seller_id, order_id) of order.created events.
 */
function acknowledgeStatement(schema: string): { name: string; text: string } {
  const events = `${ident(schema)}.events`
  const receipts = `${ident(schema)}.receipts`
  return {
    name: statementName('bazaar_gateway_ack', schema),
    text: `with o as (select 1 from ${events} where routing_key = '${ORDER_CREATED}' and seller_id = $1 and order_id = $2 limit 1),
           ins as (insert into ${receipts} (appliance_id, order_id) select $3::uuid, $2 from o on conflict (appliance_id, order_id) do nothing returning acked_at)
      select exists (select 1 from o) as found,
             coalesce((select acked_at from ins), (select acked_at from ${receipts} where appliance_id = $3::uuid and order_id = $2)) as acked_at`
  }
}
