import type { Order, OrderData, OrderPatch, OrderQuery } from './orders.schema.ts'

export type { Order, OrderData, OrderPatch, OrderQuery }

/** Orders are placed and read; a buyer may cancel one that waits for its payment (patch); none is deleted. */
export const orderPath = 'orders'
export const orderMethods = ['find', 'get', 'create', 'patch'] as const
