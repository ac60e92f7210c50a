import { getValidator, type Static } from '@feathersjs/typebox'
import { countrySchema as entrySchema } from '../../../../shared/contracts/reference.ts'
import { dataValidator } from '../../../../shared/feathers/validation.ts'
import { versionedEntry, wholeEntryBody } from '../../entries.schema.ts'

/** A country as the API shows it: the entry and its version. */
export const countrySchema = versionedEntry(entrySchema, 'ReferenceCountry')
export type ReferenceCountry = Static<typeof countrySchema>

/** `PUT /countries/:code`: the whole entry; `code` may be left out (the path has it). */
export const countryDataSchema = wholeEntryBody(entrySchema, 'code', 'CountryData')
export const countryDataValidator = getValidator(countryDataSchema, dataValidator)
