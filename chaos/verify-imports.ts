import type { Knex } from 'knex'
import { schemaName } from '../shared/db/database.ts'
import type { ReceivedMail } from '../shared/testing/smtp.ts'
import { isBadRow, type UploadedImport } from './imports.ts'

/** The bulk import's promises, counted from the catalog's database and the mail that reached the SMTP server. */
export interface ImportVerdict {
  /** imports the catalog committed (uploads cut by a fault included, when they committed) */
  imports: number
  rows: number
  /** imports not completed once everything drained */
  unfinished: number
  /** completed imports whose done + failed is not their total, or whose failures are not exactly the bad rows */
  countMismatches: number
  /** completed imports whose error file does not list exactly the bad rows */
  errorFileMismatches: number
  /** valid rows of an accepted upload with no product of that sku for its seller */
  missingProducts: number
  /** (seller, sku) pairs held by more than one product */
  doubledProducts: number
  /** completed imports without their completion email, and emails beyond the first */
  lostCompletions: number
  duplicatedCompletions: number
  details: string[]
}

export async function verifyImports(db: Knex, namespace: string, uploaded: UploadedImport[], mail: ReceivedMail[]): Promise<ImportVerdict> {
  const schema = schemaName(namespace, 'catalog')
  const details: string[] = []
  const imports: Array<{ id: string; sellerId: string; status: string; total: number; done: number | null; failed: number | null }> =
    await db.withSchema(schema).table('imports').leftJoin('aggregations', 'aggregations.id', 'imports.id')
      .select('imports.id', 'imports.sellerId', 'imports.status', 'imports.total', 'aggregations.done', 'aggregations.failed')
  const errorRows: Array<{ import_id: string; row: number }> = await db.withSchema(schema).table('import_errors').select('import_id', 'row')
  const errorsByImport = new Map<string, number[]>()
  for (const e of errorRows) {
    if (!errorsByImport.has(e.import_id)) errorsByImport.set(e.import_id, [])
    errorsByImport.get(e.import_id)!.push(e.row)
  }

  const completions = new Map<string, number>()
  for (const m of mail) {
    const id = /^<import-([0-9a-f-]{36})@bazaar>$/.exec(m.messageId ?? '')?.[1]
    if (id) completions.set(id, (completions.get(id) ?? 0) + 1)
  }

  let unfinished = 0
  let countMismatches = 0
  let errorFileMismatches = 0
  let lostCompletions = 0
  let duplicatedCompletions = 0
  for (const record of imports) {
    if (record.status !== 'completed') { unfinished += 1; details.push(`import ${record.id} is ${record.status}`); continue }
    const badRows = Array.from({ length: record.total }, (_, i) => i + 1).filter(isBadRow)
    if ((record.done ?? 0) + (record.failed ?? 0) !== record.total || record.failed !== badRows.length) {
      countMismatches += 1
      details.push(`import ${record.id}: done ${record.done} + failed ${record.failed} of ${record.total}, ${badRows.length} bad rows`)
    }
    const listed = (errorsByImport.get(record.id) ?? []).sort((a, b) => a - b)
    if (listed.join(',') !== badRows.join(',')) {
      errorFileMismatches += 1
      details.push(`import ${record.id}: its error file lists ${listed.length} rows, the file has ${badRows.length} bad ones`)
    }
    const emails = completions.get(record.id) ?? 0
    if (emails === 0) { lostCompletions += 1; details.push(`import ${record.id}: no completion email`) }
    if (emails > 1) { duplicatedCompletions += emails - 1; details.push(`import ${record.id}: ${emails} completion emails`) }
  }

  const products: Array<{ sellerId: string; sku: string; n: string }> = await db.withSchema(schema).table('products')
    .whereNotNull('sku').groupBy('sellerId', 'sku').select('sellerId', 'sku', db.raw('count(*) as n'))
  const held = new Set(products.map((p) => `${p.sellerId} ${p.sku}`))
  const doubled = products.filter((p) => Number(p.n) > 1)
  for (const p of doubled.slice(0, 5)) details.push(`seller ${p.sellerId} has ${p.n} products with sku ${p.sku}`)
  let missingProducts = 0
  for (const upload of uploaded) {
    const missing = upload.validSkus.filter((sku) => !held.has(`${upload.sellerId} ${sku}`))
    missingProducts += missing.length
    if (missing.length) details.push(`import ${upload.id}: ${missing.length} valid rows without their product (first: ${missing[0]})`)
  }
  return {
    imports: imports.length,
    rows: imports.reduce((n, i) => n + i.total, 0),
    unfinished,
    countMismatches,
    errorFileMismatches,
    missingProducts,
    doubledProducts: doubled.length,
    lostCompletions,
    duplicatedCompletions,
    details
  }
}

export function importsPassed(v: ImportVerdict): boolean {
  return v.unfinished === 0 && v.countMismatches === 0 && v.errorFileMismatches === 0 && v.missingProducts === 0 &&
    v.doubledProducts === 0 && v.lostCompletions === 0 && v.duplicatedCompletions === 0
}
