import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { BadRequest } from '@feathersjs/errors'
import { CsvError, parse } from 'csv-parse'
import { readBody } from '../../../../shared/feathers/body.ts'
import { PayloadTooLarge } from '../../../../shared/feathers/http-errors.ts'
import { MAX_IMPORT_BODY_BYTES } from '../../../../shared/feathers/limits.ts'
import { IMPORT_COLUMNS, MAX_IMPORT_ROWS } from './imports.shared.ts'

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

/** A staged row: the fields as the file had them (named by the header), or why the row could not be read. */
export type StagedFields = Record<(typeof IMPORT_COLUMNS)[number], string> | { unreadable: string }

/**
 * Reads and parses an uploaded CSV, without the database: a slow client
 * holds no connection of the pool while it sends. Everything that makes the
 * file unacceptable as a whole throws before anything is written: a body over
 * 20 MB or over 100,000 rows (413), not UTF-8, not CSV, or without the exact
 * header (400). A row with the wrong number of fields or a NUL is kept as
 * unreadable: one rejected row, reported with the others, not a refused file.
 */
export async function parseUpload(req: IncomingMessage): Promise<StagedFields[]> {
  // readBody: the content codings, Content-Length and the byte limit, as for every other body
  const bytes = await readBody(req, MAX_IMPORT_BODY_BYTES)
  try {
    fatalUtf8.decode(bytes)
  } catch {
    throw new BadRequest('The body is not valid UTF-8', { body: 'invalid UTF-8' })
  }
  const parser = Readable.from([bytes]).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }))
  let header: string[] | undefined
  const rows: StagedFields[] = []
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record
        checkHeader(header)
        continue
      }
      if (rows.length >= MAX_IMPORT_ROWS) throw new PayloadTooLarge(`An import has at most ${MAX_IMPORT_ROWS} rows`, { rows: `at most ${MAX_IMPORT_ROWS}` })
      rows.push(stagedFields(record))
    }
  } catch (err) {
    if (err instanceof CsvError) throw new BadRequest(`The body is not CSV: ${err.message}`, { body: err.code })
    throw err
  } finally {
    parser.destroy()
  }
  if (!header) throw new BadRequest(`The file needs the header ${IMPORT_COLUMNS.join(',')}`, { header: 'missing' })
  return rows
}

function checkHeader(header: string[]): void {
  const expected = IMPORT_COLUMNS.join(',')
  if (header.length !== IMPORT_COLUMNS.length || header.some((name, i) => name.trim() !== IMPORT_COLUMNS[i])) {
    throw new BadRequest(`The header must be ${expected}`, { header: `expected ${expected}, got ${header.join(',').slice(0, 200)}` })
  }
}

function stagedFields(record: string[]): StagedFields {
  if (record.length !== IMPORT_COLUMNS.length) return { unreadable: `expected ${IMPORT_COLUMNS.length} fields, got ${record.length}` }
  // PostgreSQL stores no NUL in text (nor in jsonb): the row is refused, not the file
  if (record.some((field) => field.includes('\u0000'))) return { unreadable: 'contains a NUL character' }
  return Object.fromEntries(IMPORT_COLUMNS.map((name, i) => [name, record[i]!])) as StagedFields
}
