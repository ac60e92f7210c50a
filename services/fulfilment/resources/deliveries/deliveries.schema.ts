import { resolve } from '@feathersjs/schema'
import { Type, getValidator, querySyntax, type Static } from '@feathersjs/typebox'
import { shipToSchema } from '../../../../shared/contracts/checkout.ts'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'
import type { PartyRow } from '../parties.ts'

const timestamp = Type.String({ format: 'date-time' })

/** `scheduled` from the order's payment until its seller ships it (`shipped`, final). */
export const deliveryStatusSchema = Type.Union([Type.Literal('scheduled'), Type.Literal('shipped')])
export type DeliveryStatus = Static<typeof deliveryStatusSchema>

/** One seller's delivery of their share of a paid order. */
export const deliverySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String(),
    sellerId: Type.String(),
    status: deliveryStatusSchema,
    /** where it goes; null for a pickup */
    shipTo: Type.Union([shipToSchema, Type.Null()]),
    createdAt: timestamp,
    /** once shipped */
    shippedAt: Type.Optional(timestamp)
  },
  { $id: 'Delivery', additionalProperties: false }
)
export type Delivery = Static<typeof deliverySchema>

/** As stored: with the order's buyer (who may read it) and a null `shippedAt` until shipped. */
export type DeliveryRow = Omit<Delivery, 'shippedAt'> & PartyRow & { shippedAt: string | null }

export const deliveryResolver = resolve<DeliveryRow, HookContext>({
  createdAt: timestampField,
  shippedAt: async (value) => (value === null ? undefined : timestampField(value))
})

/** Who bought is internal: the buyer knows, the seller is not shown it here. */
export const deliveryExternalResolver = resolve<DeliveryRow, HookContext>({
  buyerId: async () => undefined
})

/** `PATCH /deliveries/:id`: its seller ships it; nothing else about a delivery changes through the API. */
export const deliveryPatchSchema = Type.Object({ status: Type.Literal('shipped') }, { $id: 'DeliveryPatch', additionalProperties: false })
export type DeliveryPatch = Static<typeof deliveryPatchSchema>
export const deliveryPatchValidator = getValidator(deliveryPatchSchema, dataValidator)

/** What shipping writes: the status and when. */
export const deliveryPatchResolver = resolve<DeliveryRow, HookContext>({
  shippedAt: async () => isoTimestamp()
})

export const deliveryQueryProperties = Type.Pick(deliverySchema, ['orderId', 'sellerId', 'status', 'createdAt'])
export const deliveryQuerySchema = querySyntax(deliveryQueryProperties)
export type DeliveryQuery = Static<typeof deliveryQuerySchema>
export const deliveryQueryValidator = getValidator(deliveryQuerySchema, queryValidator)
