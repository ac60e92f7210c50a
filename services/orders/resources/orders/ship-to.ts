import { BadRequest } from '@feathersjs/errors'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { caughtUpReferenceData } from '../../../../shared/kv/reference.ts'
import type { OrderData } from './orders.schema.ts'

/**
 * Before create: an order shipped somewhere ships to a country the platform
 * has enabled, as this instance's in-memory reference data says. Without
 * `shipTo` it is a pickup, and there is nothing to check.
 */
export async function enabledShipToCountry(context: HookContext) {
  const country = (context.data as OrderData).shipTo?.country
  if (country === undefined) return
  const { countries } = await caughtUpReferenceData(context.app)
  if (countries.get(country)?.enabled !== true) {
    throw new BadRequest(`Orders are not shipped to ${country}`, { 'shipTo.country': 'not an enabled country' })
  }
}
