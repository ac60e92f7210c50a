import type { Knex } from 'knex'
import { onStart } from '../../../shared/feathers/app.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { checkCadence } from '../../../shared/jobs/index.ts'
import { sellerTimeZones } from '../projections/users.ts'
import { SELLER_DIGEST } from './job.ts'

/** The digest schedule of one time zone: DIGEST_CRON there. */
export const digestScheduleName = (timeZone: string) => `${SELLER_DIGEST}:${timeZone}`

/** Makes sure the zone has its digest schedule (its next due time kept if it has one), in the caller's transaction. */
export async function ensureDigestSchedule(app: ServiceApp, trx: Knex.Transaction | Knex, timeZone: string): Promise<void> {
  await app.get('jobs').upsertSchedule(trx, digestScheduleName(timeZone), {
    cron: serviceConfig(app, 'notifications').digestCron,
    timeZone,
    job: SELLER_DIGEST,
    payload: { timeZone }
  })
}

/**
 * DIGEST_CRON is checked when the app is made (one clear error, not a failing consumer later); at start
 * every zone in use gets its schedule again, so a changed DIGEST_CRON applies to all of them.
 */
export function digestSchedules(app: ServiceApp): void {
  checkCadence('DIGEST_CRON', { cron: serviceConfig(app, 'notifications').digestCron })
  onStart(app, async () => {
    for (const zone of await sellerTimeZones(app.get('db'), app.get('schema'))) await ensureDigestSchedule(app, app.get('db'), zone)
  })
}
