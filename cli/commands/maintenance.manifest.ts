import { MAINTENANCE_CANCELLED, MAINTENANCE_SCHEDULED } from '../../shared/contracts/maintenance.ts'
import type { PublisherManifest } from '../../shared/manifest/publisher.ts'

/** `bazaar maintenance announce|cancel` publish these straight to the exchange (no outbox: the CLI has no database). */
export const maintenanceCommandsManifest: PublisherManifest = {
  producer: 'cli',
  file: 'cli/commands/maintenance.ts',
  via: 'Publisher.publish()',
  emits: [MAINTENANCE_SCHEDULED, MAINTENANCE_CANCELLED]
}
