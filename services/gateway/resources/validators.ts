import { Ajv, addFormats } from '@feathersjs/schema'

/** Request bodies of the gateway's resources: no coercion, every failing field reported. */
export const dataValidator = addFormats(new Ajv({ allErrors: true }), ['date-time', 'uuid'])

/** Query strings: numbers and booleans arrive as text, so values are coerced; every failing field reported. */
export const queryValidator = addFormats(new Ajv({ allErrors: true, coerceTypes: true }), ['date-time', 'uuid'])

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (value: unknown): value is string => typeof value === 'string' && uuidPattern.test(value)
