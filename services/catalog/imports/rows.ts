import { dataValidator } from '../../../shared/feathers/validation.ts'
import type { ReferenceData } from '../../../shared/kv/reference.ts'
import { importRowSchema, type ImportRow } from '../resources/imports/imports.schema.ts'
import type { StagedRow } from './blocks.ts'

export interface RejectedRow {
  row: number
  sku: string | null
  error: string
}

const validate = dataValidator.compile(importRowSchema)

/** A CSV integer: digits only (no "12.50", no "1e3"); anything else is left as text for the schema to refuse. */
const integer = (text: string): number | string => (/^-?\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : text)

/**
 * Checks a chunk's staged rows with the product's own field rules and the
 * platform's enabled currencies (this instance's in-memory copy). Valid rows
 * are returned by sku, the last row of a sku winning within the chunk (one
 * upsert cannot touch a product twice); each rejected row has its reasons.
 */
export function checkRows(staged: StagedRow[], reference: ReferenceData): { valid: ImportRow[]; accepted: number; rejected: RejectedRow[] } {
  const bySku = new Map<string, ImportRow>()
  const rejected: RejectedRow[] = []
  let accepted = 0
  for (const { row, fields } of staged) {
    if ('unreadable' in fields) {
      rejected.push({ row, sku: null, error: fields.unreadable })
      continue
    }
    const candidate = { ...fields, price: integer(fields.price), stock: integer(fields.stock) }
    const problems: string[] = []
    if (!validate(candidate)) {
      for (const e of validate.errors ?? []) problems.push(`${e.instancePath.slice(1) || 'row'} ${e.message ?? 'is invalid'}`)
    }
    if (reference.currencies.get(fields.currency)?.enabled !== true) problems.push(`currency ${fields.currency} is not an enabled currency`)
    if (problems.length > 0) {
      rejected.push({ row, sku: fields.sku || null, error: problems.join('; ') })
      continue
    }
    accepted++
    bySku.set(fields.sku, candidate as ImportRow)
  }
  return { valid: [...bySku.values()], accepted, rejected }
}
