import type { Migration } from '../../../shared/db/migrations.ts'
import { aggregationMigration } from '../../../shared/aggregation/tables.ts'
import { iteratorMigration } from '../../../shared/iterator/tables.ts'

/** Bulk import: a product's optional sku (unique per seller), the imports, their staged rows and rejected rows. */
export const importsMigration: Migration = {
  name: '003_imports',
  async up(db) {
    await iteratorMigration.up(db)
    await aggregationMigration.up(db)
    await db.raw('alter table products add column sku text')
    // the upsert's conflict target: one product per (seller, sku); products without a sku are unconstrained
    await db.raw('create unique index products_seller_sku on products ("sellerId", sku) where sku is not null')
    await db.raw(`
      create table imports (
        id uuid primary key,
        "sellerId" varchar(128) not null,
        -- where the completion email goes (the token's, at upload; none: no email)
        "sellerEmail" text,
        status text not null check (status in ('accepted', 'running', 'completed', 'cancelled')),
        total integer not null,
        "createdAt" timestamptz not null,
        "completedAt" timestamptz
      )`)
    // the uploaded file, parsed and staged in the upload's transaction: the chunks read it by row number
    await db.raw(`
      create table import_rows (
        import_id uuid not null references imports (id) on delete cascade,
        row integer not null,
        fields jsonb not null,
        primary key (import_id, row)
      )`)
    // the chunks counted: at the deadline, the rows of every other chunk are reported not processed
    await db.raw(`
      create table import_chunks (
        import_id uuid not null references imports (id) on delete cascade,
        from_row integer not null,
        to_row integer not null,
        primary key (import_id, from_row)
      )`)
    await db.raw(`
      create table import_errors (
        import_id uuid not null references imports (id) on delete cascade,
        row integer not null,
        sku text,
        error text not null,
        primary key (import_id, row)
      )`)
  }
}
