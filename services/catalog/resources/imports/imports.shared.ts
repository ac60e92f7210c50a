/** `/imports`: a seller's bulk uploads (created by POST with a CSV body), read and cancelled by id. */
export const importPath = 'imports'
export const importMethods = ['get', 'create', 'remove'] as const
/** `/imports/:importId/errors`: the rejected rows, as CSV. */
export const importErrorsPath = 'imports/:importId/errors'
export const importErrorsMethods = ['find'] as const

/** The header a file must start with, in this order. */
export const IMPORT_COLUMNS = ['sku', 'title', 'description', 'price', 'currency', 'stock'] as const
/** Most rows and bytes one upload may have (contract.md): beyond them, 413 and nothing kept. */
export const MAX_IMPORT_ROWS = 100_000
