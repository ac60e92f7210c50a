import { Unavailable } from '@feathersjs/errors'
import { COUNTRY_CHANGED, CURRENCY_CHANGED, FLAG_CHANGED, type Currency } from '../contracts/reference.ts'
import type { ServiceApp } from '../feathers/declarations.ts'
import type { KvSnapshotterOptions } from './snapshots.ts'
import { replicate } from './app.ts'
import { DerivedStore } from './derived.ts'
import type { KvFeed } from './feed.ts'
import type { KvReplica } from './replica.ts'

/** The platform's reference data, owned by the reference service (contract.md "Platform reference data"). */
export const referenceFeed = {
  owner: 'reference',
  stores: { countries: COUNTRY_CHANGED, currencies: CURRENCY_CHANGED, flags: FLAG_CHANGED }
} as const satisfies KvFeed

/** The flags the platform knows; `imports` has no endpoint yet (the import issue adds `POST /imports`), its switch is here already. */
export type FlagName = 'claims' | 'imports'

/** A service's in-memory view of the reference data. */
export interface ReferenceData {
  replica: KvReplica<(typeof referenceFeed)['stores']>
  countries: KvReplica<(typeof referenceFeed)['stores']>['stores']['countries']
  currencies: KvReplica<(typeof referenceFeed)['stores']>['stores']['currencies']
  flags: KvReplica<(typeof referenceFeed)['stores']>['stores']['flags']
  /** derived: the enabled currencies used by at least one enabled country */
  currenciesOfEnabledCountries: DerivedStore<Currency>
  /** a flag that does not exist counts as off */
  isOn(flag: FlagName): boolean
}

declare module '../feathers/declarations.ts' {
  interface BazaarSettings {
    /** set by referenceData(): the reference data in memory */
    referenceData?: ReferenceData
  }
}

/** The app's replica of the reference data, made (and started with the app) on first use. */
export function referenceData(app: ServiceApp, options: { snapshots?: KvSnapshotterOptions } = {}): ReferenceData {
  const existing = app.get('referenceData')
  if (existing) return existing
  const replica = replicate(app, referenceFeed, options)
  const { countries, currencies, flags } = replica.stores
  const currenciesOfEnabledCountries = new DerivedStore<Currency>('currencies of enabled countries', [countries, currencies], () => {
    const used = new Map<string, Currency>()
    for (const country of countries.all()) {
      if (!country.enabled) continue
      for (const code of country.currencies) {
        const currency = currencies.get(code)
        if (currency?.enabled) used.set(code, currency)
      }
    }
    return used
  })
  const data: ReferenceData = {
    replica,
    countries,
    currencies,
    flags,
    currenciesOfEnabledCountries,
    isOn: (flag) => flags.get(flag)?.enabled === true
  }
  app.set('referenceData', data)
  return data
}

/** How long a request waits for a replica still catching up (a service just started) before it is answered 503. */
const READY_WAIT_MS = 5_000

/**
 * The app's reference data once caught up: for a hook that decides by it. A
 * replica still bootstrapping makes the request wait a little, then answers
 * 503 (never a decision from data that may be stale).
 */
export async function caughtUpReferenceData(app: ServiceApp): Promise<ReferenceData> {
  const data = app.get('referenceData')
  if (!data) throw new Error('referenceData(app) was not configured for this service')
  if (!data.replica.ready) {
    await data.replica.whenReady(READY_WAIT_MS).catch(() => {
      throw new Unavailable('Reference data (countries, currencies, flags) is still loading; try again shortly')
    })
  }
  return data
}
