import { randomUUID } from 'node:crypto'
import { resolve } from '@feathersjs/schema'
import { Type, getValidator, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { dataValidator } from '../../../../shared/feathers/validation.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'

/** A buyer's complaint about one of their orders. */
export const claimSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    buyerId: Type.String(),
    reason: Type.String({ minLength: 1, maxLength: 2_000 }),
    status: Type.Literal('open'),
    openedAt: Type.String({ format: 'date-time' })
  },
  { $id: 'Claim', additionalProperties: false }
)
export type Claim = Static<typeof claimSchema>

export const claimResolver = resolve<Claim, HookContext>({
  openedAt: timestampField
})

export const claimDataSchema = Type.Pick(claimSchema, ['orderId', 'reason'], { $id: 'ClaimData', additionalProperties: false })
export type ClaimData = Static<typeof claimDataSchema>
export const claimDataValidator = getValidator(claimDataSchema, dataValidator)
export const claimDataResolver = resolve<Claim, HookContext>({
  id: async () => randomUUID(),
  buyerId: async (_value, _claim, context) => context.params.caller!.id,
  status: async () => 'open' as const,
  openedAt: async () => isoTimestamp()
})
