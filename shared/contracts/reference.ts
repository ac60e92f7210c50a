import { Type, type Static } from '@feathersjs/typebox'

/**
 * The platform's reference data (the reference service owns it): one event
 * per change of an entry, carrying the whole entry and its version, or `null`
 * for a deletion (a tombstone). Every service keeps these in memory
 * (shared/kv); the version lets a replica ignore a late or replayed change.
 */
export const COUNTRY_CHANGED = 'country.changed'
export const CURRENCY_CHANGED = 'currency.changed'
export const FLAG_CHANGED = 'flag.changed'

export const countryCodePattern = '^[A-Z]{2}$'
export const currencyCodePattern = '^[A-Z]{3}$'
export const flagNamePattern = '^[a-z][a-z0-9-]{0,39}$'

export const countrySchema = Type.Object(
  {
    code: Type.String({ pattern: countryCodePattern, examples: ['DE'] }),
    name: Type.String({ minLength: 1, maxLength: 100, examples: ['Germany'] }),
    enabled: Type.Boolean(),
    /** the currencies used there */
    currencies: Type.Array(Type.String({ pattern: currencyCodePattern, examples: ['EUR'] }), { maxItems: 10, uniqueItems: true })
  },
  { $id: 'Country', additionalProperties: false }
)
export type Country = Static<typeof countrySchema>

export const currencySchema = Type.Object(
  {
    code: Type.String({ pattern: currencyCodePattern, examples: ['EUR'] }),
    name: Type.String({ minLength: 1, maxLength: 100, examples: ['Euro'] }),
    /** digits after the decimal point (EUR 2, JPY 0) */
    exponent: Type.Integer({ minimum: 0, maximum: 4 }),
    enabled: Type.Boolean()
  },
  { $id: 'Currency', additionalProperties: false }
)
export type Currency = Static<typeof currencySchema>

export const flagSchema = Type.Object(
  {
    name: Type.String({ pattern: flagNamePattern, examples: ['claims'] }),
    enabled: Type.Boolean()
  },
  { $id: 'Flag', additionalProperties: false }
)
export type Flag = Static<typeof flagSchema>

const changeOf = <T extends ReturnType<typeof Type.Object>>(id: string, value: T) =>
  Type.Object(
    {
      key: Type.String({ minLength: 1, maxLength: 64 }),
      /** 1 for the first write of the key, one more for each later write (deletions included) */
      version: Type.Integer({ minimum: 1 }),
      value: Type.Union([value, Type.Null()]),
      changedAt: Type.String({ format: 'date-time' })
    },
    { $id: id, additionalProperties: false }
  )

export const countryChangedSchema = changeOf('CountryChanged', countrySchema)
export const currencyChangedSchema = changeOf('CurrencyChanged', currencySchema)
export const flagChangedSchema = changeOf('FlagChanged', flagSchema)
export type CountryChanged = Static<typeof countryChangedSchema>
export type CurrencyChanged = Static<typeof currencyChangedSchema>
export type FlagChanged = Static<typeof flagChangedSchema>
