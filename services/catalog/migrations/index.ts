import type { Migration } from '../../../shared/db/migrations.ts'
import { importsMigration } from './003-imports.ts'
import { importFailuresMigration } from './004-import-failures.ts'
import { importBlocksMigration } from './005-import-blocks.ts'

/** The catalog's schema: products, each owned by a seller, optionally the child of another. */
export const migrations: Migration[] = [
  {
    name: '001_products',
    async up(db) {
      await db.schema.createTable('products', (t) => {
        t.uuid('id').primary()
        t.string('sellerId', 128).notNullable().index()
        // One level: a parent is never itself a child (checked on create).
        t.uuid('parentId').nullable().references('id').inTable('products').index()
        t.text('title').notNullable()
        t.text('description').notNullable()
        t.integer('price').notNullable()
        t.string('currency', 3).notNullable()
        t.integer('stock').notNullable()
        // Increases with every change; events carry it so projections can ignore stale ones.
        t.integer('version').notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
        t.timestamp('updatedAt', { useTz: true }).notNullable()
      })
      await db.raw('alter table products add constraint products_price_not_negative check (price >= 0)')
      await db.raw('alter table products add constraint products_stock_not_negative check (stock >= 0)')
    }
  },
  {
    name: '002_available',
    async up(db) {
      // Units ordered (counted from order.created); what a buyer can still buy is derived, and filterable.
      await db.raw('alter table products add column ordered integer not null default 0')
      await db.raw('alter table products add column available integer generated always as (greatest(stock - ordered, 0)) stored')
      await db.raw('create index products_available on products (available)')
    }
  },
  importsMigration,
  importFailuresMigration,
  importBlocksMigration
]
