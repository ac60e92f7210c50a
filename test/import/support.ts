import { createApp as createCatalog } from '../../services/catalog/app.ts'
import type { CatalogConfig } from '../../services/catalog/config.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { call as callApi, type JsonRequest } from '../../shared/testing/http.ts'
import { dropNamespaceSchemas, Management, startApp, testEnv, type RunningApp } from '../../shared/testing/index.ts'

/** A row of an import file, as the test writes it. */
export interface CsvRow {
  sku: string
  title: string
  description: string
  price: string | number
  currency: string
  stock: string | number
}

const quote = (value: string | number) => {
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** A CSV file with the import's header. */
export function csvOf(rows: CsvRow[], header = 'sku,title,description,price,currency,stock'): string {
  return [header, ...rows.map((r) => [r.sku, r.title, r.description, r.price, r.currency, r.stock].map(quote).join(','))].join('\n') + '\n'
}

/**
 * `count` rows with skus `<prefix>-<n>`; the rows whose number `bad(n)` says
 * are made invalid in turn (a negative price, an unknown currency, a missing
 * title), so the test knows exactly which rows must be rejected.
 */
export function generatedRows(prefix: string, count: number, bad: (n: number) => boolean = () => false, price = 100): { rows: CsvRow[]; badRows: number[] } {
  const rows: CsvRow[] = []
  const badRows: number[] = []
  for (let n = 1; n <= count; n++) {
    const row: CsvRow = { sku: `${prefix}-${n}`, title: `Item ${n}, "quoted"`, description: `Line one\nline two of ${n}`, price: price + n, currency: 'EUR', stock: n % 50 }
    if (bad(n)) {
      badRows.push(n)
      const kind = badRows.length % 3
      if (kind === 0) row.price = -5
      else if (kind === 1) row.currency = 'XXX'
      else row.title = ''
    }
    rows.push(row)
  }
  return { rows, badRows }
}

/** POST /imports with a CSV body. */
export function upload(baseUrl: string, token: string, csv: string, headers: Record<string, string> = {}) {
  return callApi(baseUrl, 'POST', '/imports', { token, body: csv, headers: { 'content-type': 'text/csv', ...headers } })
}

export const call = (baseUrl: string, method: string, path: string, request?: JsonRequest) => callApi(baseUrl, method, path, request)

/** A test file's `after`: closes what it opened (in the order given, each if it was opened), then removes the namespace. */
export async function cleanUp(ns: string, ...opened: Array<{ stop?(): Promise<void>; close?(): Promise<void> } | undefined>): Promise<void> {
  for (const thing of opened) await (thing?.stop ?? thing?.close)?.call(thing)
  await new Management().deleteNamespace(ns)
  await dropNamespaceSchemas(ns)
}

/**
 * A describe block's reference and catalog apps (the catalog with `config`) and a tap on import.completed,
 * started in `before` and closed in `after`; read them from the returned object inside the tests.
 */
export function importApps(ns: string, config: Partial<CatalogConfig>): { catalog: RunningApp; tap: EventTap } {
  const apps = {} as { reference: RunningApp; catalog: RunningApp; tap: EventTap }
  before(async function () {
    const env = testEnv(ns)
    apps.reference = await startApp(createReference(env))
    apps.catalog = await startApp(createCatalog(env, config))
    apps.tap = await EventTap.open(ns, ['import.completed'])
  })
  after(() => cleanUp(ns, apps.tap, apps.catalog, apps.reference))
  return apps
}
