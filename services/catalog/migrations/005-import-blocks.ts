import type { Migration } from '../../../shared/db/migrations.ts'
import { STAGE_BLOCK_ROWS } from '../imports/blocks.ts'

/**
 * Staged rows in blocks: one row of `import_blocks` holds STAGE_BLOCK_ROWS consecutive rows of a file (a
 * `json` array), where `import_rows` held one row each. A 100,000-row file is 200 tuples instead of
 * 100,000 (with as many primary-key entries), both when the upload stages it and when a chunk reads it.
 * Rows staged before this migration move into blocks, so an import in progress goes on.
 */
export const importBlocksMigration: Migration = {
  name: '005_import_blocks',
  async up(db) {
    await db.raw(`
      create table import_blocks (
        import_id uuid not null references imports (id) on delete cascade,
        from_row integer not null,
        to_row integer not null,
        rows json not null,
        primary key (import_id, from_row)
      )`)
    await db.raw(
      `insert into import_blocks (import_id, from_row, to_row, rows)
       select import_id, min(row), max(row), json_agg(fields order by row) from import_rows group by import_id, (row - 1) / ?`,
      [STAGE_BLOCK_ROWS]
    )
    await db.raw('drop table import_rows')
  }
}
