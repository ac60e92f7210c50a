import { getValidator, type Static } from '@feathersjs/typebox'
import { flagSchema as entrySchema } from '../../../../shared/contracts/reference.ts'
import { dataValidator } from '../../../../shared/feathers/validation.ts'
import { versionedEntry, wholeEntryBody } from '../../entries.schema.ts'

/** A flag as the API shows it: the entry and its version. */
export const flagSchema = versionedEntry(entrySchema, 'ReferenceFlag')
export type ReferenceFlag = Static<typeof flagSchema>

/** `PUT /flags/:name`: the whole entry; `name` may be left out (the path has it). */
export const flagDataSchema = wholeEntryBody(entrySchema, 'name', 'FlagData')
export const flagDataValidator = getValidator(flagDataSchema, dataValidator)
