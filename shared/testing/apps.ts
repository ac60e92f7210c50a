import type { ServiceApp } from '../feathers/declarations.ts'
import { Management } from './broker.ts'
import { dropNamespaceSchemas } from './database.ts'
import { startApp, type RunningApp } from './server.ts'

/**
 * The apps one test file runs in its namespace: started on free ports, and in
 * `close()` stopped (last started first; stopping one twice is harmless), then the namespace's queues,
 * exchanges and schemas removed.
 */
export class TestApps {
  private readonly running: RunningApp[] = []

  constructor(readonly namespace: string) {}

  async start(app: ServiceApp): Promise<RunningApp> {
    const running = await startApp(app)
    this.running.push(running)
    return running
  }

  /**
   * Starts apps that do not depend on each other together (each migrates its own schema and declares its own
   * queues; a start is mostly waiting on PostgreSQL and RabbitMQ), results in the order given. Every start is
   * settled before a failure is thrown, so `close()` finds every app that did come up.
   */
  async startAll(apps: ServiceApp[]): Promise<RunningApp[]> {
    const settled = await Promise.allSettled(apps.map((app) => this.start(app)))
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    return settled.map((r) => (r as PromiseFulfilledResult<RunningApp>).value)
  }

  async close(): Promise<void> {
    for (const running of this.running.splice(0).reverse()) await running.stop()
    await new Management().deleteNamespace(this.namespace)
    await dropNamespaceSchemas(this.namespace)
  }
}
