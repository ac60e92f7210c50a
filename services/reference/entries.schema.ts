import { Type, type TObject } from '@feathersjs/typebox'

/** An entry as the API shows it: the entry of its contract and its version. */
export const versionedEntry = <T extends TObject>(entry: T, $id: string) =>
  Type.Object({ ...entry.properties, version: Type.Integer({ minimum: 1 }) }, { $id, additionalProperties: false })

/** A PUT body: the whole entry, whose key may be left out (the path has it). */
export const wholeEntryBody = <T extends TObject>(entry: T, keyField: keyof T['properties'] & string, $id: string) =>
  Type.Object({ ...entry.properties, [keyField]: Type.Optional(entry.properties[keyField]) }, { $id, additionalProperties: false })
