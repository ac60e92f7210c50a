import Table from 'cli-table3'

/** `--json` on every listing command: machine-readable, one document on stdout. */
export interface OutputOptions {
  json?: boolean
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export type Cell = string | number | undefined | null

/** A human-readable table on stdout; empty cells print as '-'. */
export function printTable(head: string[], rows: Cell[][], options: { title?: string; empty?: string } = {}): void {
  if (options.title) process.stdout.write(`${options.title}\n`)
  if (rows.length === 0) {
    process.stdout.write(`${options.empty ?? '(none)'}\n`)
    return
  }
  const table = new Table({ head, style: { head: [], border: [] } })
  for (const row of rows) table.push(row.map((cell) => (cell === undefined || cell === null || cell === '' ? '-' : String(cell))))
  process.stdout.write(`${table.toString()}\n`)
}

/** A short human age: 42s, 5m 03s, 3h 10m, 2d 4h. */
export function formatAge(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

export function ageSince(iso: string | undefined, now = Date.now()): number | undefined {
  if (!iso) return undefined
  const at = Date.parse(iso)
  return Number.isNaN(at) ? undefined : now - at
}

/** Text on stderr for people (progress, notes); kept off stdout so `--json` stays parseable. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`)
}
