import type { Static, TSchema } from '@feathersjs/typebox'
import { USER_REGISTERED, USER_SESSIONS_REVOKED, USER_UPDATED, userRegisteredSchema, userSessionsRevokedSchema, userUpdatedSchema } from './user.ts'
import { PRODUCT_CREATED, PRODUCT_UPDATED, productEventSchema } from './product.ts'
import {
  ORDER_CREATED,
  ORDER_PLACED,
  CLAIM_OPENED,
  CLAIM_ANSWERED,
  CLAIM_ESCALATED,
  CLAIM_CLOSED,
  orderCreatedSchema,
  orderPlacedSchema,
  claimOpenedSchema,
  claimAnsweredSchema,
  claimEscalatedSchema,
  claimClosedSchema
} from './order.ts'
import {
  MAINTENANCE_SCHEDULED,
  MAINTENANCE_CANCELLED,
  maintenanceScheduledSchema,
  maintenanceCancelledSchema
} from './maintenance.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, sendEmailTaskSchema } from './tasks.ts'
import { IMPORT_COMPLETED, IMPORT_PROGRESS, TASK_CATALOG_IMPORT_CHUNK, importChunkTaskSchema, importProgressSchema } from './import.ts'
import {
  ORDER_PAID,
  ORDER_CANCELLED,
  ORDER_FULFILLED,
  PAYMENT_CAPTURED,
  PAYMENT_FAILED,
  PAYMENT_REFUNDED,
  DELIVERY_SCHEDULED,
  DELIVERY_SHIPPED,
  INVOICE_ISSUED,
  SUBSCRIPTION_CREATED,
  SUBSCRIPTION_RENEWED,
  SUBSCRIPTION_PAST_DUE,
  SUBSCRIPTION_CANCELLED,
  orderPaidSchema,
  orderCancelledSchema,
  orderFulfilledSchema,
  paymentCapturedSchema,
  paymentFailedSchema,
  paymentRefundedSchema,
  deliveryScheduledSchema,
  deliveryShippedSchema,
  invoiceIssuedSchema,
  subscriptionEventSchema
} from './checkout.ts'
import { COUNTRY_CHANGED, CURRENCY_CHANGED, FLAG_CHANGED, countryChangedSchema, currencyChangedSchema, flagChangedSchema } from './reference.ts'

export * from './user.ts'
export * from './product.ts'
export * from './order.ts'
export * from './maintenance.ts'
export * from './tasks.ts'
export * from './time-zone.ts'
export * from './reference.ts'
export * from './import.ts'
export * from './checkout.ts'

/**
 * Every event Bazaar publishes: routing key to payload schema. Publisher and
 * consumer are typed by this map and validate against it at run time.
 */
export const contracts = {
  [USER_REGISTERED]: userRegisteredSchema,
  [USER_UPDATED]: userUpdatedSchema,
  [USER_SESSIONS_REVOKED]: userSessionsRevokedSchema,
  [PRODUCT_CREATED]: productEventSchema,
  [PRODUCT_UPDATED]: productEventSchema,
  [ORDER_CREATED]: orderCreatedSchema,
  [ORDER_PLACED]: orderPlacedSchema,
  [CLAIM_OPENED]: claimOpenedSchema,
  [CLAIM_ANSWERED]: claimAnsweredSchema,
  [CLAIM_ESCALATED]: claimEscalatedSchema,
  [CLAIM_CLOSED]: claimClosedSchema,
  [MAINTENANCE_SCHEDULED]: maintenanceScheduledSchema,
  [MAINTENANCE_CANCELLED]: maintenanceCancelledSchema,
  [TASK_NOTIFICATIONS_SEND_EMAIL]: sendEmailTaskSchema,
  [COUNTRY_CHANGED]: countryChangedSchema,
  [CURRENCY_CHANGED]: currencyChangedSchema,
  [FLAG_CHANGED]: flagChangedSchema,
  [IMPORT_PROGRESS]: importProgressSchema,
  [IMPORT_COMPLETED]: importProgressSchema,
  [TASK_CATALOG_IMPORT_CHUNK]: importChunkTaskSchema,
  [ORDER_PAID]: orderPaidSchema,
  [ORDER_CANCELLED]: orderCancelledSchema,
  [ORDER_FULFILLED]: orderFulfilledSchema,
  [PAYMENT_CAPTURED]: paymentCapturedSchema,
  [PAYMENT_FAILED]: paymentFailedSchema,
  [PAYMENT_REFUNDED]: paymentRefundedSchema,
  [DELIVERY_SCHEDULED]: deliveryScheduledSchema,
  [DELIVERY_SHIPPED]: deliveryShippedSchema,
  [INVOICE_ISSUED]: invoiceIssuedSchema,
  [SUBSCRIPTION_CREATED]: subscriptionEventSchema,
  [SUBSCRIPTION_RENEWED]: subscriptionEventSchema,
  [SUBSCRIPTION_PAST_DUE]: subscriptionEventSchema,
  [SUBSCRIPTION_CANCELLED]: subscriptionEventSchema
} as const satisfies Record<string, TSchema>

export type RoutingKey = keyof typeof contracts
export type EventPayload<K extends RoutingKey> = Static<(typeof contracts)[K]>
export type EventMap = { [K in RoutingKey]: EventPayload<K> }

export const routingKeys = Object.keys(contracts) as RoutingKey[]

export function isRoutingKey(key: string): key is RoutingKey {
  return Object.hasOwn(contracts, key)
}
