import { BadRequest } from '@feathersjs/errors'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { caughtUpReferenceData } from '../../../../shared/kv/reference.ts'

/**
 * Before create and patch: a product is priced only in a currency the
 * platform has enabled, as this instance's in-memory copy of the reference
 * data says (current within about a second of the admin's change).
 */
export async function enabledCurrency(context: HookContext) {
  const currency = (context.data as { currency?: string }).currency
  if (currency === undefined) return
  const { currencies } = await caughtUpReferenceData(context.app)
  if (currencies.get(currency)?.enabled !== true) {
    throw new BadRequest(`Currency ${currency} is not enabled on this platform`, { currency: 'not an enabled currency' })
  }
}
