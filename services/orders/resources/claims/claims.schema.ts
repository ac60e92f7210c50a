import { randomUUID } from 'node:crypto'
import { resolve } from '@feathersjs/schema'
import { Type, getValidator, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { dataValidator } from '../../../../shared/feathers/validation.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'

const timestamp = Type.String({ format: 'date-time' })
const optionalTimestamp = Type.Union([timestamp, Type.Null()])

/**
 * Where a claim is: `open` until a seller of the order answers (`answered`), no seller answers within
 * CLAIM_RESPONSE_TIMEOUT (`escalated`: the admins take it over) or the buyer closes it (`closed`, final).
 */
export const claimStatusSchema = Type.Union([Type.Literal('open'), Type.Literal('answered'), Type.Literal('escalated'), Type.Literal('closed')])
export type ClaimStatus = Static<typeof claimStatusSchema>

/** A buyer's complaint about one of their orders. */
export const claimSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    buyerId: Type.String(),
    reason: Type.String({ minLength: 1, maxLength: 2_000 }),
    status: claimStatusSchema,
    /** the seller's answer, once there is one */
    response: Type.Union([Type.String({ minLength: 1, maxLength: 2_000 }), Type.Null()]),
    openedAt: timestamp,
    answeredAt: optionalTimestamp,
    escalatedAt: optionalTimestamp,
    closedAt: optionalTimestamp
  },
  { $id: 'Claim', additionalProperties: false }
)
export type Claim = Static<typeof claimSchema>

export const claimResolver = resolve<Claim, HookContext>({
  openedAt: timestampField,
  answeredAt: timestampField,
  escalatedAt: timestampField,
  closedAt: timestampField
})

export const claimDataSchema = Type.Pick(claimSchema, ['orderId', 'reason'], { $id: 'ClaimData', additionalProperties: false })
export type ClaimData = Static<typeof claimDataSchema>
export const claimDataValidator = getValidator(claimDataSchema, dataValidator)
export const claimDataResolver = resolve<Claim, HookContext>({
  id: async () => randomUUID(),
  buyerId: async (_value, _claim, context) => context.params.caller!.id,
  status: async () => 'open' as const,
  response: async () => null,
  openedAt: async () => isoTimestamp(),
  answeredAt: async () => null,
  escalatedAt: async () => null,
  closedAt: async () => null
})

/** `PATCH /claims/:id`: a seller of the order answers (`{ response }`), its buyer closes (`{ status: 'closed' }`); one of the two. */
export const claimPatchSchema = Type.Object(
  {
    response: Type.Optional(Type.String({ minLength: 1, maxLength: 2_000, pattern: '\\S' })),
    status: Type.Optional(Type.Literal('closed'))
  },
  { $id: 'ClaimPatch', additionalProperties: false, minProperties: 1 }
)
export type ClaimPatch = Static<typeof claimPatchSchema>
export const claimPatchValidator = getValidator(claimPatchSchema, dataValidator)

/** What the change writes: an answer moves the claim to `answered`, a close to `closed`, each stamped. */
export const claimPatchResolver = resolve<Claim, HookContext>({
  status: async (value, patch) => (patch.response !== undefined ? 'answered' : value),
  answeredAt: async (_value, patch) => (patch.response !== undefined ? isoTimestamp() : undefined),
  closedAt: async (_value, patch) => (patch.status === 'closed' ? isoTimestamp() : undefined)
})
