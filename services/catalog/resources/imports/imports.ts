import { BadRequest } from '@feathersjs/errors'
import type { Middleware } from '@feathersjs/koa'
import { stringify } from 'csv-stringify/sync'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { transactional } from '../../../../shared/feathers/transaction.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { ImportService } from './imports.class.ts'
import { importsSwitchedOn } from './imports-flag.ts'
import { importErrorsManifest, importManifest } from './imports.manifest.ts'
import { importErrorsPath, importPath } from './imports.shared.ts'

const csvType = /^text\/csv\s*(;|$)/i

/** Koa, before the service: a CSV body is handed to create as the request stream (the JSON parser leaves it unread). */
const csvUpload: Middleware = async (ctx, next) => {
  if (ctx.method === 'POST' && csvType.test(String(ctx.req.headers['content-type'] ?? ''))) {
    ctx.feathers = { ...ctx.feathers, upload: ctx.req }
    ;(ctx.request as { body?: unknown }).body = {}
  }
  await next()
}

/** Koa, after the service: the rejected rows leave as CSV, `row,sku,error`. */
const csvErrors: Middleware = async (ctx, next) => {
  const rows = ctx.body as Array<{ row: number; sku: string | null; error: string }>
  ctx.type = 'text/csv; charset=utf-8'
  ctx.body = stringify(rows.map((r) => [r.row, r.sku ?? '', r.error]), { header: true, columns: ['row', 'sku', 'error'] })
  await next()
}

/**
 * `/imports` (POST a CSV: 202 and Location; GET by id; DELETE cancels) and
 * `/imports/:importId/errors` (the rejected rows as CSV). Sellers only, each
 * their own imports; POST only while flag `imports` is on.
 */
export function imports(app: ServiceApp): void {
  const service = new ImportService(app)
  app.use(importPath, service, { ...serviceOptions(importManifest), koa: { before: [csvUpload] } })
  app.service(importPath).hooks({
    around: { all: [authenticateUser()], remove: [transactional()] },
    before: { all: [requireManifestRole(importManifest), refuseQuery], create: [importsSwitchedOn] },
    after: {
      create: [
        async (context: HookContext) => {
          context.http = { ...context.http, status: 202, location: `/${importPath}/${context.result.id}` }
        }
      ]
    }
  })
  app.use(
    importErrorsPath,
    {
      async find(params: { route?: { importId?: string } } & Parameters<ImportService['get']>[1]) {
        const record = await service.owned(app.get('db'), params.route?.importId, params)
        return app.get('db').withSchema(app.get('schema')).table('import_errors').where({ import_id: record.id }).orderBy('row').select('row', 'sku', 'error')
      }
    },
    { ...serviceOptions(importErrorsManifest), koa: { after: [csvErrors] } }
  )
  app.service(importErrorsPath).hooks({
    around: { all: [authenticateUser()] },
    before: { all: [requireManifestRole(importErrorsManifest), refuseQuery] }
  })
}

/** No query parameters anywhere here: one is a 400 naming it. */
async function refuseQuery(context: HookContext) {
  const names = Object.keys(context.params.query ?? {})
  if (names.length > 0) {
    throw new BadRequest(`Unknown query parameter ${names[0]}`, Object.fromEntries(names.map((n) => [n, 'not a parameter of this resource'])))
  }
}
