/** Import files (CSV) as the tests, the chaos run and the benchmarks write them. */

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
