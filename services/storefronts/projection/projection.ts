import { onStart } from '../../../shared/feathers/app.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { declareTopology } from '../../../shared/bus/topology.ts'
import { eventLogSpec, eventLogTopology } from '../log/event-log.ts'
import { ProjectionSupervisor } from './supervisor.ts'

/**
 * The write side of the service: declares the event log at start (so every
 * domain event from then on is kept), then keeps the projection's versions
 * from it. Stopped before the bus closes.
 */
export function storefrontProjection(app: ServiceApp): void {
  const config = serviceConfig(app, 'storefronts')
  const env = app.get('env')
  let supervisor: ProjectionSupervisor | undefined
  onStart(app, async () => {
    const bus = app.get('bus')
    const channel = await (await bus.connection.channelModel()).createChannel()
    try {
      await declareTopology(channel, eventLogTopology(app.get('namespace'), config.logRetentionMs))
    } finally {
      await channel.close().catch(() => {})
    }
    supervisor = new ProjectionSupervisor({
      connection: bus.connection,
      db: app.get('db'),
      schema: app.get('schema'),
      log: eventLogSpec(app.get('namespace'), config.logRetentionMs),
      batchSize: config.batchSize,
      databaseUrl: env.databaseUrl,
      pollIntervalMs: config.pollIntervalMs,
      logger: app.get('logger')
    })
    app.set('storefrontProjection', supervisor)
    // this instance's own commits (and batches another instance committed first) drop their pages at once
    supervisor.on('changed', (_version, sellers) => {
      const pages = app.get('storefrontPages')
      if (sellers === '*') pages?.clear()
      else pages?.invalidate(sellers)
    })
    await supervisor.start()
  })
  app.hooks({
    teardown: [
      async (_context: unknown, next: () => Promise<void>) => {
        await supervisor?.stop()
        await next()
      }
    ]
  })
}

/** The projectors of a running storefronts app (tests, the benchmark). */
export function storefrontSupervisor(app: ServiceApp): ProjectionSupervisor {
  const supervisor = app.get('storefrontProjection')
  if (!supervisor) throw new Error('not a started storefronts app')
  return supervisor
}
