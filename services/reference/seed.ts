import { writeOutbox } from '../../shared/bus/outbox.ts'
import { COUNTRY_CHANGED, CURRENCY_CHANGED, FLAG_CHANGED, type Country, type Currency, type Flag } from '../../shared/contracts/reference.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../shared/feathers/timestamps.ts'

const countries: Country[] = [
  { code: 'DE', name: 'Germany', enabled: true, currencies: ['EUR'] },
  { code: 'FR', name: 'France', enabled: true, currencies: ['EUR'] },
  { code: 'NL', name: 'Netherlands', enabled: true, currencies: ['EUR'] },
  { code: 'GB', name: 'United Kingdom', enabled: true, currencies: ['GBP'] },
  { code: 'US', name: 'United States', enabled: true, currencies: ['USD'] }
]
const currencies: Currency[] = [
  { code: 'EUR', name: 'Euro', exponent: 2, enabled: true },
  { code: 'GBP', name: 'Pound sterling', exponent: 2, enabled: true },
  { code: 'USD', name: 'US dollar', exponent: 2, enabled: true }
]
const flags: Flag[] = [
  { name: 'claims', enabled: true },
  { name: 'imports', enabled: true }
]

/**
 * The first start of the reference service: the contract's countries,
 * currencies and flags, each at version 1 with its change event, in one
 * transaction. Two instances starting at once seed once (a transaction lock),
 * and a store that has ever had an entry is never seeded again.
 */
export async function seedReferenceData(app: ServiceApp): Promise<void> {
  const schema = app.get('schema')
  await app.get('db').transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`${schema}.seed`])
    const [{ count }] = await trx.withSchema(schema).table('entries').count({ count: '*' })
    if (Number(count) > 0) return
    const changedAt = new Date()
    const write = async <V>(store: string, key: string, value: V, routingKey: typeof COUNTRY_CHANGED | typeof CURRENCY_CHANGED | typeof FLAG_CHANGED) => {
      await trx.withSchema(schema).table('entries').insert({ store, key, version: 1, value: JSON.stringify(value), changedAt })
      await writeOutbox(trx, outboxOf(app), routingKey, { key, version: 1, value: value as never, changedAt: isoTimestamp(changedAt) })
    }
    for (const country of countries) await write('countries', country.code, country, COUNTRY_CHANGED)
    for (const currency of currencies) await write('currencies', currency.code, currency, CURRENCY_CHANGED)
    for (const flag of flags) await write('flags', flag.name, flag, FLAG_CHANGED)
  })
}

export const outboxOf = (app: ServiceApp) => ({ namespace: app.get('namespace'), appId: app.get('service'), schema: app.get('schema') })

