import type { BazaarEnv } from '../../shared/config/env.ts'
import { durationMs } from '../../shared/config/duration.ts'
import { createServiceApp, onStart } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../shared/feathers/service-config.ts'
import { referenceData } from '../../shared/kv/reference.ts'
import { referenceConfigSchema } from './config.ts'
import './declarations.ts'
import { migrations } from './migrations/index.ts'
import { republishMissing } from './reconcile.ts'
import { countries } from './resources/countries/countries.ts'
import { currencies } from './resources/currencies/currencies.ts'
import { flags } from './resources/flags/flags.ts'
import { seedReferenceData } from './seed.ts'
import { writeLane } from './lane.ts'
import { exclusively } from './snapshot-lock.ts'

/**
 * reference: the platform's countries, currencies and flags. It writes every
 * change through its outbox into the kv stream, and snapshots of its own
 * replica beside them, from which every service's in-memory copy bootstraps
 * (docs/kv-stores.md).
 */
export function createApp(env?: BazaarEnv): ServiceApp {
  const app = createServiceApp({
    service: 'reference',
    migrations,
    env,
    config: {
      schema: referenceConfigSchema,
      values: { snapshotIntervalMs: durationMs(process.env.KV_SNAPSHOT_INTERVAL), snapshotMinChanges: process.env.KV_SNAPSHOT_MIN_CHANGES }
    }
  })
  app.configure(writeLane)
  app.configure(countries)
  app.configure(currencies)
  app.configure(flags)
  onStart(app, seedReferenceData)
  const config = serviceConfig(app, 'reference')
  const data = referenceData(app, {
    snapshots: { intervalMs: config.snapshotIntervalMs, minChanges: config.snapshotMinChanges, exclusively: exclusively(app) }
  })
  data.replica.on('ready', () => void republishMissing(app, data).catch((err) => app.get('logger').error({ err }, 'could not check the kv stream against the database')))
  return app
}
