import { Unavailable } from '@feathersjs/errors'
import type { ServiceApp } from './declarations.ts'

/**
 * `GET /health`: 200 when this service, its broker connection and its
 * database are ready; 503 naming what is not.
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
    const ready = app.get('ready') === true
    const report = { service: app.get('service'), status: broker === 'up' && database === 'up' && ready ? 'ok' : 'unavailable', broker, database }
    if (report.status !== 'ok') throw new Unavailable(`${report.service} is not ready`, report)
    return report
  }
}

export function health(app: ServiceApp): void {
  app.use('health', new HealthService(app), { methods: ['find'] })
}
