/**
 * Order-to-receipt latency, and what each fault did to it while it lasted: for every (order, seller),
 * the time from the order's commit (its `createdAt`) to its receipt file at the seller's appliance
 * (the file's mtime; the appliance renames a complete file into place once). Orders placed inside a
 * fault's window are that fault's sample; orders placed outside every window are the baseline.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import knex from 'knex'
import { schemaName } from '../../shared/db/database.ts'

export interface Window { fault: string; from: number; to: number }

export interface LatencyFigures { orders: number; p50Ms: number; p99Ms: number; maxMs: number }

export interface FaultLatency extends LatencyFigures { fault: string; seconds: number }

export interface LatencyReport { outside: LatencyFigures; faults: FaultLatency[] }

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export function figures(samples: number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b)
  return { orders: sorted.length, p50Ms: Math.round(percentile(sorted, 50)), p99Ms: Math.round(percentile(sorted, 99)), maxMs: Math.round(sorted.at(-1) ?? 0) }
}

/** Every receipt's latency, with the time its order was placed. */
export async function receiptLatencies(databaseUrl: string, namespace: string, applianceDirs: Map<string, string>): Promise<Array<{ placedAt: number; ms: number }>> {
  const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
  try {
    const orders: Array<{ id: string; sellerIds: string[]; createdAt: Date }> =
      await db.withSchema(schemaName(namespace, 'orders')).table('orders').select('id', 'sellerIds', 'createdAt')
    const samples: Array<{ placedAt: number; ms: number }> = []
    for (const order of orders) {
      const placedAt = new Date(order.createdAt).getTime()
      for (const sellerId of new Set(order.sellerIds)) {
        const dir = applianceDirs.get(sellerId)
        if (!dir) continue
        try {
          samples.push({ placedAt, ms: statSync(join(dir, `${order.id}.txt`)).mtimeMs - placedAt })
        } catch {
          // never printed: the verdict counts it as lost
        }
      }
    }
    return samples
  } finally {
    await db.destroy()
  }
}

export function latencyByFault(samples: Array<{ placedAt: number; ms: number }>, windows: Window[]): LatencyReport {
  const inside = (w: Window, t: number) => t >= w.from && t <= w.to
  return {
    outside: figures(samples.filter((s) => !windows.some((w) => inside(w, s.placedAt))).map((s) => s.ms)),
    faults: windows.map((w) => ({
      fault: w.fault,
      seconds: Math.round((w.to - w.from) / 100) / 10,
      ...figures(samples.filter((s) => inside(w, s.placedAt)).map((s) => s.ms))
    }))
  }
}

export function latencyMarkdown(report: LatencyReport): string {
  const row = (name: string, seconds: string, f: LatencyFigures) => `| ${name} | ${seconds} | ${f.orders} | ${f.p50Ms} | ${f.p99Ms} | ${f.maxMs} |`
  return [
    '',
    'Order-to-receipt latency (order committed to receipt file written), orders placed during each fault against orders placed outside every fault:',
    '',
    '| fault | lasted (s) | receipts | p50 (ms) | p99 (ms) | max (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    row('outside every fault', '', report.outside),
    ...report.faults.map((f) => row(f.fault, String(f.seconds), f)),
    ''
  ].join('\n')
}
