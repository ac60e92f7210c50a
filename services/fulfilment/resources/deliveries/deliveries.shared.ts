import type { Delivery, DeliveryPatch, DeliveryQuery } from './deliveries.schema.ts'

export type { Delivery, DeliveryPatch, DeliveryQuery }

/** Deliveries are made by order.paid; they are read, and shipped by their seller (PATCH). */
export const deliveryPath = 'deliveries'
export const deliveryMethods = ['find', 'get', 'patch'] as const
