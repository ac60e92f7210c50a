import { Unavailable } from '@feathersjs/errors'
import type { ReadinessCheck, ServiceApp } from './declarations.ts'

/**
 * `GET /health`: 200 when this service, its broker connection, its
 * database and whatever else it registered with `readiness()` (its in-memory
 * KV stores caught up, say) are ready; 503 naming what is not.
 */
export class HealthService {
  constructor(private readonly app: ServiceApp) {}

  async find() {
    const app = this.app
    const broker = app.get('bus')?.connection.isConnected ? 'up' : 'down'
    let database = 'up'
    try {
      await app.get('db').raw('select 1')
    } catch {
      database = 'down'
    }
    const waitingFor = (app.get('readiness') ?? []).filter((check) => !check.ready()).map((check) => check.name)
    const ready = app.get('ready') === true && waitingFor.length === 0
    const report = {
      service: app.get('service'),
      status: broker === 'up' && database === 'up' && ready ? 'ok' : 'unavailable',
      broker,
      database,
      ...(waitingFor.length ? { waitingFor } : {})
    }
    if (report.status !== 'ok') throw new Unavailable(`${report.service} is not ready`, report)
    return report
  }
}

export function health(app: ServiceApp): void {
  app.use('health', new HealthService(app), { methods: ['find'] })
}

/** The app's list of readiness checks `/health` consults: a part of the service adds its own. */
export function readiness(app: ServiceApp): ReadinessCheck[] {
  let checks = app.get('readiness')
  if (!checks) {
    checks = []
    app.set('readiness', checks)
  }
  return checks
}
