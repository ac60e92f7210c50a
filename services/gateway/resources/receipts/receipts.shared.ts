import type { Receipt, ReceiptData } from './receipts.schema.ts'

export type { Receipt, ReceiptData }

export const receiptPath = 'receipts'
export const receiptMethods = ['create'] as const
