import type { Invoice, InvoiceQuery } from './invoices.schema.ts'

export type { Invoice, InvoiceQuery }

/** Invoices are issued by order.paid and never change: they are only read. */
export const invoicePath = 'invoices'
export const invoiceMethods = ['find', 'get'] as const
