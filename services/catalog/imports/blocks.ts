import type { Knex } from 'knex'
import type { StagedFields } from '../resources/imports/upload.ts'

/**
 * How an upload's rows are staged: blocks of STAGE_BLOCK_ROWS consecutive
 * rows, one `import_blocks` tuple each (the rows as one `json` array), so a
 * 100,000-row file is 200 tuples to write and to read, not 100,000. A chunk
 * reads the blocks its row range overlaps, whatever the chunk size.
 */
export const STAGE_BLOCK_ROWS = 500

/** Blocks per insert statement: four parameters each, far below the protocol's 65,535. */
const BLOCKS_PER_STATEMENT = 100

export interface StagedRow {
  row: number
  fields: StagedFields
}

/**
 * Stages parsed rows (numbered from 1) in the caller's transaction. Each
 * block goes as one text parameter (JSON.stringify is native; the server
 * only checks a `json` value, it does not convert it).
 */
export async function stageBlocks(trx: Knex.Transaction, schema: string, importId: string, rows: StagedFields[]): Promise<void> {
  const blocks: Array<[string, number, number, string]> = []
  for (let from = 0; from < rows.length; from += STAGE_BLOCK_ROWS) {
    const block = rows.slice(from, from + STAGE_BLOCK_ROWS)
    blocks.push([importId, from + 1, from + block.length, JSON.stringify(block)])
  }
  for (let i = 0; i < blocks.length; i += BLOCKS_PER_STATEMENT) {
    const batch = blocks.slice(i, i + BLOCKS_PER_STATEMENT)
    await trx.raw(`insert into ??.import_blocks (import_id, from_row, to_row, rows) values ${batch.map(() => '(?, ?, ?, ?::json)').join(', ')}`, [schema, ...batch.flat()])
  }
}

/** The staged rows from `fromRow` to `toRow`, in order, read from the blocks that hold them. */
export async function readStagedRows(trx: Knex.Transaction, schema: string, importId: string, fromRow: number, toRow: number): Promise<StagedRow[]> {
  const blocks: Array<{ from_row: number; rows: StagedFields[] }> = await trx.withSchema(schema).table('import_blocks')
    .where({ import_id: importId }).where('from_row', '<=', toRow).where('to_row', '>=', fromRow).orderBy('from_row').select('from_row', 'rows')
  const staged: StagedRow[] = []
  for (const block of blocks) {
    block.rows.forEach((fields, i) => {
      const row = block.from_row + i
      if (row >= fromRow && row <= toRow) staged.push({ row, fields })
    })
  }
  return staged
}
