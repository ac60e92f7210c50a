import { getValidator, type Static } from '@feathersjs/typebox'
import { currencySchema as entrySchema } from '../../../../shared/contracts/reference.ts'
import { dataValidator } from '../../../../shared/feathers/validation.ts'
import { versionedEntry, wholeEntryBody } from '../../entries.schema.ts'

/** A currency as the API shows it: the entry and its version. */
export const currencySchema = versionedEntry(entrySchema, 'ReferenceCurrency')
export type ReferenceCurrency = Static<typeof currencySchema>

/** `PUT /currencies/:code`: the whole entry; `code` may be left out (the path has it). */
export const currencyDataSchema = wholeEntryBody(entrySchema, 'code', 'CurrencyData')
export const currencyDataValidator = getValidator(currencyDataSchema, dataValidator)
