/** `/countries`: countrys, read by anyone, written by admins (contract.md "Platform reference data"). */
export const countryPath = 'countries'
export { referenceMethods as countryMethods } from '../../entries.ts'
