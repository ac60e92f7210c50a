import { onStart } from '../feathers/app.ts'
import type { ServiceApp } from '../feathers/declarations.ts'
import { readiness } from '../feathers/health.ts'
import type { KvChangeKey, KvFeed } from './feed.ts'
import { KvReplica } from './replica.ts'
import { KvSnapshotter, type KvSnapshotterOptions } from './snapshots.ts'

/**
 * A service's replica of a feed: started with the app (after its broker
 * connection, before it consumes), part of its `/health` (503 until caught
 * up), stopped before the bus on teardown. The owner passes `snapshots`, and
 * writes the feed's snapshots too.
 */
export function replicate<S extends Record<string, KvChangeKey>>(
  app: ServiceApp,
  feed: KvFeed<S>,
  options: { snapshots?: KvSnapshotterOptions } = {}
): KvReplica<S> {
  const owner = options.snapshots !== undefined
  const replica = new KvReplica({ feed, bus: app.get('bus'), env: app.get('env'), owner, logger: app.get('logger') })
  const snapshotter = owner ? new KvSnapshotter(replica, app.get('bus').publisher, { logger: app.get('logger'), ...options.snapshots }) : undefined
  onStart(app, async () => {
    await replica.start()
    snapshotter?.start()
  })
  readiness(app).push({ name: `${feed.owner} kv stores`, ready: () => replica.ready })
  app.get('metrics').watchReplica(feed.owner, replica)
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        await snapshotter?.stop()
        await replica.stop()
        await next()
      }
    ]
  })
  return replica
}
