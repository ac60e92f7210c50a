import { randomUUID } from 'node:crypto'
import { BadRequest } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import { pageOf } from '../../../../shared/feathers/list-query.ts'
import type { EventStore } from '../../history/store.ts'
import type { MaintenanceNotice, MaintenanceNoticeData, MaintenanceNoticeQuery } from './maintenance-notices.schema.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'

/**
 * Maintenance notices. Creating one only emits `maintenance.scheduled` (the
 * hooks write it to the outbox): the notice is stored when the event comes
 * back from the bus, exactly as one announced by the CLI is.
 */
export class MaintenanceNoticeService {
  constructor(private readonly store: EventStore) {}

  /** The notices in force or announced, not cancelled and not over; `$sort`, then `$skip` and `$limit`. */
  async find(params?: Params<MaintenanceNoticeQuery>): Promise<MaintenanceNotice[]> {
    const notices = (await this.store.activeNotices()).map((event) => event.payload as MaintenanceNotice)
    return pageOf(notices, params?.query)
  }

  async create(data: MaintenanceNoticeData): Promise<MaintenanceNotice> {
    const startsAt = new Date(data.startsAt)
    const endsAt = new Date(data.endsAt)
    if (endsAt <= startsAt) throw new BadRequest('endsAt must be after startsAt', { endsAt: 'must be after startsAt' })
    return { id: randomUUID(), message: data.message, startsAt: isoTimestamp(startsAt), endsAt: isoTimestamp(endsAt) }
  }
}
