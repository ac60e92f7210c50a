import { BadRequest } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import type { Validator } from '@feathersjs/schema'
import type { KvChangeKey } from '../../shared/kv/feed.ts'
import { COUNTRY_CHANGED, CURRENCY_CHANGED, FLAG_CHANGED, countryCodePattern, currencyCodePattern, flagNamePattern } from '../../shared/contracts/reference.ts'
import { authenticateUser } from '../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../shared/feathers/timestamps.ts'
import { emit, sqlTransactional } from '../../shared/feathers/transaction.ts'
import { requireManifestRole } from '../../shared/manifest/access.ts'
import { defineResource, serviceOptions, type ResourceManifest } from '../../shared/manifest/resource.ts'
import { ReferenceEntryService, type StoreOf } from './entries.class.ts'

export const referenceMethods = ['find', 'get', 'update', 'remove'] as const
type Method = (typeof referenceMethods)[number]

/** A reference store's manifest: anyone reads, admins write, each write emits the store's change event. */
export function referenceManifest(path: string, routingKey: KvChangeKey, entry: string): ResourceManifest<Method> {
  return defineResource({
    path,
    methods: referenceMethods,
    access: {
      find: { who: 'anyone (no token needed)', open: true },
      get: { who: 'anyone (no token needed)', open: true },
      update: { who: `admins: the whole ${entry} (upsert)`, roles: ['admin'] },
      remove: { who: 'admins', roles: ['admin'] }
    },
    emits: { update: [routingKey], remove: [routingKey] }
  })
}

export interface ReferenceResource<V extends Record<string, unknown>> {
  path: string
  of: StoreOf<V>
  manifest: ResourceManifest<Method>
  routingKey: KvChangeKey
  /** the key's format in the path (`^[A-Z]{2}$` for a country) */
  keyPattern: string
  dataValidator: Validator
}

/** The three stores: the field their key is, its format, the event of their changes. */
const stores = {
  countries: { keyField: 'code', keyPattern: countryCodePattern, routingKey: COUNTRY_CHANGED },
  currencies: { keyField: 'code', keyPattern: currencyCodePattern, routingKey: CURRENCY_CHANGED },
  flags: { keyField: 'name', keyPattern: flagNamePattern, routingKey: FLAG_CHANGED }
} as const

/** A store's resource from its path (the store's name), its manifest and its body's validator. */
export function referenceStore<V extends Record<string, unknown>>(store: keyof typeof stores, manifest: ResourceManifest<Method>, dataValidator: Validator) {
  const { keyField, keyPattern, routingKey } = stores[store]
  return (app: ServiceApp) =>
    referenceResource<V>(app, { path: store, of: { store, keyField: keyField as keyof V & string }, manifest, routingKey, keyPattern, dataValidator })
}

/**
 * Registers one reference store: `GET /<path>` (every entry), `GET
 * /<path>/:key`, `PUT /<path>/:key` and `DELETE /<path>/:key` (admins), each
 * write one change event through the outbox with the key's new version.
 */
export function referenceResource<V extends Record<string, unknown>>(app: ServiceApp, resource: ReferenceResource<V>): void {
  const keyIsWellFormed = checkKey(resource)
  // a write and its change event in one plain-SQL transaction on the pipelined lane: two round trips, no knex
  const inTransaction = sqlTransactional(() => {
    const lane = app.get('referenceLane')
    if (!lane) throw new Error('the reference stores write on the lane of services/reference/lane.ts: configure writeLane first')
    return lane
  })
  app.use(resource.path, new ReferenceEntryService<V>(app, resource.of), serviceOptions(resource.manifest))
  app.service(resource.path).hooks({
    around: {
      update: [authenticateUser(), inTransaction],
      remove: [authenticateUser(), inTransaction]
    },
    before: {
      get: [keyIsWellFormed],
      update: [requireManifestRole(resource.manifest), keyIsWellFormed, schemaHooks.validateData(resource.dataValidator), keyMatchesPath(resource)],
      remove: [requireManifestRole(resource.manifest), keyIsWellFormed]
    },
    after: {
      update: [emitChange(resource)],
      remove: [emitChange(resource)]
    }
  })
}

/** A malformed key in the path is a 400 naming the key field, before anything is read. */
function checkKey<V extends Record<string, unknown>>(resource: ReferenceResource<V>) {
  const pattern = new RegExp(resource.keyPattern)
  return async (context: HookContext) => {
    if (typeof context.id !== 'string' || !pattern.test(context.id)) {
      throw new BadRequest(`Invalid ${resource.of.keyField}: must match ${resource.keyPattern}`, { [resource.of.keyField]: `must match ${resource.keyPattern}` })
    }
  }
}

/** The body may repeat the key; if it does, it must be the one in the path. */
function keyMatchesPath<V extends Record<string, unknown>>(resource: ReferenceResource<V>) {
  return async (context: HookContext) => {
    const field = resource.of.keyField
    const inBody = (context.data as Record<string, unknown>)[field]
    if (inBody !== undefined && inBody !== context.id) {
      throw new BadRequest(`The ${field} in the body (${String(inBody)}) is not the one in the path (${String(context.id)})`, { [field]: 'must equal the one in the path' })
    }
  }
}

function emitChange<V extends Record<string, unknown>>(resource: ReferenceResource<V>) {
  return async (context: HookContext) => {
    const { version, ...value } = context.result as V & { version: number }
    await emit(context, resource.routingKey, {
      key: String(context.id),
      version,
      value: context.method === 'remove' ? null : (value as never),
      changedAt: isoTimestamp()
    })
  }
}
