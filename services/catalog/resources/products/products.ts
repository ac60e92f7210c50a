import { BadRequest, Forbidden, NotFound } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { PRODUCT_CREATED, PRODUCT_UPDATED } from '../../../../shared/contracts/product.ts'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { emit, transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { requireManifestRole } from '../../../../shared/manifest/access.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { ProductService, getOptions } from './products.class.ts'
import {
  productDataResolver,
  productDataValidator,
  productExternalResolver,
  productPatchResolver,
  productPatchValidator,
  productQueryValidator,
  productResolver,
  productSchema,
  sharedFields,
  toProductEvent,
  type Product,
  type ProductData,
  type ProductPatch
} from './products.schema.ts'
import { productPath } from './products.shared.ts'
import { productManifest } from './products.manifest.ts'
import { enabledCurrency } from './enabled-currency.ts'

/**
 * `/products`: anyone reads, sellers create, only a product's seller patches
 * it. Every change is a product.* event in the same transaction; patching a
 * parent's shared fields patches its children through this same service, so
 * each child gets its own version and its own product.updated.
 */
export function products(app: ServiceApp): void {
  app.use(productPath, new ProductService(getOptions(app)), serviceOptions(productManifest))
  app.service(productPath).hooks({
    around: {
      all: [publicQuery(productSchema), schemaHooks.resolveExternal(productExternalResolver), schemaHooks.resolveResult(productResolver)],
      find: [authenticateUser({ optional: true })],
      get: [authenticateUser({ optional: true })],
      create: [authenticateUser(), transactional()],
      patch: [authenticateUser(), transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(productQueryValidator)],
      get: [uuidId()],
      create: [
        requireManifestRole(productManifest),
        schemaHooks.validateData(productDataValidator),
        enabledCurrency,
        checkParent,
        schemaHooks.resolveData(productDataResolver)
      ],
      patch: [
        requireManifestRole(productManifest),
        uuidId(),
        schemaHooks.validateData(productPatchValidator),
        enabledCurrency,
        lockForPatch,
        schemaHooks.resolveData(productPatchResolver)
      ]
    },
    after: {
      create: [async (context: HookContext) => void (await emit(context, PRODUCT_CREATED, toProductEvent(context.result)))],
      patch: [async (context: HookContext) => void (await emit(context, PRODUCT_UPDATED, toProductEvent(context.result))), syncChildren]
    }
  })
}

const table = (context: HookContext) => context.params.transaction!.trx.withSchema(context.app.get('schema')).table('products')

/** A parent must exist, belong to the same seller and not be a child itself (one level of variants). */
async function checkParent(context: HookContext) {
  const { parentId } = context.data as ProductData
  if (parentId === undefined || parentId === null) return
  const parent: Product | undefined = await table(context).where({ id: parentId }).forShare().first()
  const refuse = (why: string) => new BadRequest(`Invalid parentId: ${why}`, { parentId: why })
  if (!parent) throw refuse(`no product ${parentId}`)
  if (parent.sellerId !== context.params.caller?.id) throw refuse('the parent must be one of your own products')
  if (parent.parentId) throw refuse('the parent is itself a child product; variants are one level deep')
}

/** Locks the row for the patch's transaction and checks that the caller owns it. */
async function lockForPatch(context: HookContext) {
  const current: Product | undefined = await table(context).where({ id: context.id }).forUpdate().first()
  if (!current) throw new NotFound(`No record found for id '${context.id}'`)
  if (context.params.provider && current.sellerId !== context.params.caller?.id) {
    throw new Forbidden("Only the product's seller may change it")
  }
}

/**
 * The in-service event of the marketplace reading: a patch that touches a
 * parent's shared fields copies them to every child, in the same transaction,
 * as internal patches (which emit their own product.updated).
 */
async function syncChildren(context: HookContext) {
  const patch = context.data as ProductPatch
  if (!sharedFields.some((field) => field in patch)) return
  const parent = context.result as Product
  const children: Array<{ id: string }> = await table(context).where({ parentId: parent.id }).orderBy('id').select('id')
  const shared = Object.fromEntries(sharedFields.map((field) => [field, parent[field]])) as ProductPatch
  for (const child of children) {
    await context.app.service(productPath).patch(child.id, shared, { transaction: context.params.transaction })
  }
}
