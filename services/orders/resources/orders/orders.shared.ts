import type { Order, OrderData, OrderQuery } from './orders.schema.ts'

export type { Order, OrderData, OrderQuery }

/** Orders are placed and read; they are not edited or deleted through the API. */
export const orderPath = 'orders'
export const orderMethods = ['find', 'get', 'create'] as const
