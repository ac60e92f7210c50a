import { Type, type Static } from '@feathersjs/typebox'

export const IMPORT_PROGRESS = 'import.progress'
export const IMPORT_COMPLETED = 'import.completed'
/** One chunk of an import's staged rows, for the catalog's competing chunk workers (a task queue). */
export const TASK_CATALOG_IMPORT_CHUNK = 'task.catalog.import-chunk'

export const importStatusSchema = Type.Union([
  Type.Literal('accepted'),
  Type.Literal('running'),
  Type.Literal('completed'),
  Type.Literal('cancelled')
])
export type ImportStatus = Static<typeof importStatusSchema>

/** Where a bulk import stands: the SSE notice to its seller (rate limited while it runs, once at the end). */
export const importProgressSchema = Type.Object(
  {
    importId: Type.String({ format: 'uuid' }),
    sellerId: Type.String({ minLength: 1 }),
    status: importStatusSchema,
    total: Type.Integer({ minimum: 0 }),
    done: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 })
  },
  { $id: 'ImportProgress', additionalProperties: false }
)
export type ImportProgress = Static<typeof importProgressSchema>

/** Rows `fromRow..toRow` (1-based, inclusive) of an import's staged file. */
export const importChunkTaskSchema = Type.Object(
  {
    importId: Type.String({ format: 'uuid' }),
    fromRow: Type.Integer({ minimum: 1 }),
    toRow: Type.Integer({ minimum: 1 })
  },
  { $id: 'ImportChunkTask', additionalProperties: false }
)
export type ImportChunkTask = Static<typeof importChunkTaskSchema>
