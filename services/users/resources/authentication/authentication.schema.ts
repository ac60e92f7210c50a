import { Type, getValidator, type Static } from '@feathersjs/typebox'
import { dataValidator } from '../../../../shared/feathers/validation.ts'

/** A login with email and password. */
export const localAuthenticationSchema = Type.Object(
  {
    strategy: Type.Literal('local'),
    email: Type.String({ format: 'email', maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 72 })
  },
  { $id: 'LocalAuthentication', additionalProperties: false }
)
export type LocalAuthentication = Static<typeof localAuthenticationSchema>

/** Exchanging a still valid token for the user it belongs to. */
export const tokenAuthenticationSchema = Type.Object(
  {
    strategy: Type.Literal('jwt'),
    accessToken: Type.String({ minLength: 1, maxLength: 4096 })
  },
  { $id: 'TokenAuthentication', additionalProperties: false }
)
export type TokenAuthentication = Static<typeof tokenAuthenticationSchema>

/** Picks the schema by the strategy asked for; anything but `jwt` is checked as a local login. */
export const authenticationValidators = {
  jwt: getValidator(tokenAuthenticationSchema, dataValidator),
  local: getValidator(localAuthenticationSchema, dataValidator)
}
