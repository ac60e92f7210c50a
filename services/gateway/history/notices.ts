import type { Knex } from 'knex'
import { MAINTENANCE_CANCELLED, MAINTENANCE_SCHEDULED, type EventPayload } from '../../../shared/contracts/index.ts'
import type { RecordedEvent } from './audiences.ts'
import type { Projection } from './event-log.ts'
import { eventColumns, toEvent } from './rows.ts'

/**
 * The maintenance notices in force, projected from the events that announce
 * and cancel them, whoever sent those (REST or the CLI on the bus): a stream
 * that connects gets every active notice, however old its announcement.
 */
export class NoticeProjection implements Projection {
  constructor(
    private readonly db: Knex,
    private readonly schema: string
  ) {}

  private get notices(): string {
    return `${this.schema}.maintenance_notices`
  }

  async apply(events: RecordedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.routingKey === MAINTENANCE_SCHEDULED) {
        const notice = event.payload as EventPayload<typeof MAINTENANCE_SCHEDULED>
        await this.db(this.notices)
          .insert({ id: notice.id, message: notice.message, starts_at: notice.startsAt, ends_at: notice.endsAt, event_id: event.id })
          .onConflict('id')
          .merge(['message', 'starts_at', 'ends_at', 'event_id', 'updated_at'])
      } else if (event.routingKey === MAINTENANCE_CANCELLED) {
        const cancel = event.payload as EventPayload<typeof MAINTENANCE_CANCELLED>
        await this.db(this.notices).insert({ id: cancel.id, cancelled_at: cancel.cancelledAt }).onConflict('id').merge(['cancelled_at', 'updated_at'])
      }
    }
  }

  /** Maintenance notices not cancelled and not over, as the events that announced them, in id order. */
  async active(): Promise<RecordedEvent[]> {
    const rows = await this.db(`${this.notices} as n`)
      .join(`${this.schema}.events as e`, 'e.id', 'n.event_id')
      .whereNull('n.cancelled_at')
      .whereNotNull('n.message')
      .where('n.ends_at', '>', new Date())
      .orderBy('e.id')
      .select(...eventColumns)
    return rows.map(toEvent)
  }
}
