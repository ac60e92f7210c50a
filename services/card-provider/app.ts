import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { feathers } from '@feathersjs/feathers'
import { bodyParser, errorHandler, koa, rest } from '@feathersjs/koa'
import { createKnex, schemaName } from '../../shared/db/database.ts'
import { migrate } from '../../shared/db/migrations.ts'
import { ChargesService, RefundsService, type FailureInjection } from './charges.ts'
import { Ledger, ledgerMigrations } from './ledger.ts'

export interface CardProviderOptions {
  databaseUrl: string
  /** its books live in `<namespace>_card_provider`, so every test run has its own */
  namespace: string
  failures?: Partial<FailureInjection>
}

export interface RunningCardProvider {
  url: string
  ledger: Ledger
  server: Server
  stop(): Promise<void>
}

/**
 * The simulated card provider: a third party with its own process, HTTP API and books (contract.md "Checkout").
 * Bazaar reaches it only over HTTP, as it would a real one; nothing of Bazaar runs inside it.
 */
export async function startCardProvider(options: CardProviderOptions, port = 0, host = '127.0.0.1'): Promise<RunningCardProvider> {
  const schema = schemaName(options.namespace, 'card_provider')
  const db = createKnex(options.databaseUrl, schema, { min: 0, max: 5 })
  await migrate(db, schema, ledgerMigrations)
  const ledger = new Ledger(db)
  const failures: FailureInjection = { slowMs: 5_000, flakyErrors: 1, ...options.failures }

  const app = koa(feathers())
  app.use(errorHandler())
  app.use(async (ctx, next) => {
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' }
      return
    }
    await next()
  })
  app.use(bodyParser())
  app.configure(rest())
  app.use('v1/charges', new ChargesService(ledger, failures), { methods: ['create', 'get', 'find'] })
  app.use('v1/refunds', new RefundsService(ledger), { methods: ['create'] })
  app.use('v1/statement', { find: async () => ledger.statement() }, { methods: ['find'] })

  const server = createServer(app.callback())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  await app.setup(server)
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${bound}`,
    ledger,
    server,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.destroy()
    }
  }
}
