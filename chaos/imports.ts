import { csvOf, generatedRows } from '../shared/testing/import-files.ts'
import { call } from './client.ts'
import type { Seller } from './load.ts'
import { PacedWork, countFailure } from './paced.ts'

/** Every file of the run rejects the same rows, so the check knows an import's failures from its total alone. */
export const isBadRow = (row: number): boolean => row % 33 === 0

/** An upload the public origin accepted (202): which seller, which skus its valid rows carry. */
export interface UploadedImport {
  id: string
  sellerId: string
  total: number
  validSkus: string[]
}

export interface ImportLoadStats {
  uploadsTried: number
  uploadsAccepted: number
  /** uploads of a file the seller had imported before: they update its products and create none */
  reuploads: number
  rowsAccepted: number
  failures: Record<string, number>
}

/**
 * Sellers upload product files through the public origin while the faults run: a new file, or every
 * third time one of their earlier files again with other prices (the update path). An upload cut by a
 * fault is not sent again: whether it committed is for the check to find in the database.
 */
export class ImportLoad {
  readonly stats: ImportLoadStats = { uploadsTried: 0, uploadsAccepted: 0, reuploads: 0, rowsAccepted: 0, failures: {} }
  readonly uploaded: UploadedImport[] = []
  private readonly paced = new PacedWork(() => this.upload())
  private files = 0

  constructor(
    private readonly base: string,
    private readonly sellers: Seller[],
    private readonly everyMs: number,
    private readonly rows: number
  ) {}

  start(): void {
    this.paced.start(this.everyMs, { now: true })
  }

  stop(): Promise<void> {
    return this.paced.stop()
  }

  /** Every third upload, once each seller has three, repeats one of the seller's earlier files. */
  private repeats(n: number): boolean {
    return n >= 3 * this.sellers.length && n % 3 === 0
  }

  private async upload(): Promise<void> {
    const n = this.files++
    const seller = this.sellers[n % this.sellers.length]!
    const again = this.repeats(n)
    // a repeat carries the skus of the seller's first file it goes back to, with new prices
    let original = n
    while (this.repeats(original)) original -= 3 * this.sellers.length
    const prefix = `chaos-${seller.id.slice(0, 8)}-f${original}`
    const { rows } = generatedRows(prefix, this.rows, isBadRow, 100 + n)
    this.stats.uploadsTried += 1
    const answer = await call(this.base, 'POST', '/imports', csvOf(rows), seller.token, { 'content-type': 'text/csv' })
    if (answer.status !== 202) return countFailure(this.stats.failures, 'import', answer.status)
    this.stats.uploadsAccepted += 1
    this.stats.rowsAccepted += rows.length
    if (again) this.stats.reuploads += 1
    this.uploaded.push({
      id: answer.body.id,
      sellerId: seller.id,
      total: rows.length,
      validSkus: rows.filter((_, i) => !isBadRow(i + 1)).map((r) => r.sku)
    })
  }
}
