/** `/currencies`: currencys, read by anyone, written by admins (contract.md "Platform reference data"). */
export const currencyPath = 'currencies'
export { referenceMethods as currencyMethods } from '../../entries.ts'
