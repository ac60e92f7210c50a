import type { Payment, PaymentData, PaymentQuery } from './payments.schema.ts'

export type { Payment, PaymentData, PaymentQuery }

/** Payments are made and read; a payment is never edited or deleted through the API (refunds are the service's). */
export const paymentPath = 'payments'
export const paymentMethods = ['find', 'get', 'create'] as const
