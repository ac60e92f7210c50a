/** `/flags`: flags, read by anyone, written by admins (contract.md "Platform reference data"). */
export const flagPath = 'flags'
export { referenceMethods as flagMethods } from '../../entries.ts'
