import { createBusLane } from '../../shared/bus/lane.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'

/** Connections the writes' lane opens at most: admin writes at thousands a second need a few, each pipelined. */
const LANE_CONNECTIONS = 8

/**
 * The pipelined PostgreSQL lane the reference stores' writes run on
 * (sqlTransactional(), shared/bus/sql.ts): a pool of its own beside the
 * service's knex pool, with the schema first on its search path, closed at
 * teardown after the requests it served.
 */
export function writeLane(app: ServiceApp): void {
  const lane = createBusLane({ databaseUrl: app.get('env').databaseUrl, schema: app.get('schema'), max: LANE_CONNECTIONS })
  app.set('referenceLane', lane)
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        await next()
        await lane.end().catch(() => {})
      }
    ]
  })
}
