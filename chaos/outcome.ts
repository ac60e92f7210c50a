/**
 * What every chaos profile does once the load stops: wait for the queues and outboxes to drain, read
 * the verdict until it holds still, count the deliveries the appliances absorbed, and print and save
 * the figures. Shared by chaos/run.ts (full, short) and chaos/cluster/run.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { outboxBacklogs } from '../cli/lib/outbox.ts'
import { serviceTable } from '../shared/services.ts'
import { Management } from '../shared/testing/broker.ts'
import type { startSmtpServer } from '../shared/testing/smtp.ts'
import { waitFor } from '../shared/testing/wait.ts'
import type { LoadGenerator } from './load.ts'
import { passed, type Verdict } from './verify.ts'

export interface FaultRecord { fault: string; at: string; tookMs: number }

/** Every outbox empty and every work queue (not stream) empty, twice in a row. */
export async function drained(namespace: string, databaseUrl: string): Promise<void> {
  const management = new Management()
  const services = serviceTable.map((s) => s.name)
  let quietOnce = false
  await waitFor(async () => {
    const backlog = (await outboxBacklogs(databaseUrl, namespace, services)).reduce((n, o) => n + (o.backlog ?? 0), 0)
    const queues = await management.queues(namespace)
    // A stream is a log (event log, KV changes): it keeps its messages once read, so it never drains.
    const pending = queues.filter((q) => !q.name.endsWith('.dlq') && q.type !== 'stream').reduce((n, q) => n + q.messages, 0)
    const quiet = backlog === 0 && pending === 0
    const done = quiet && quietOnce
    quietOnce = quiet
    return done
  }, { timeoutMs: 180_000, intervalMs: 2_000, what: 'outboxes and queues to drain' })
}

/**
 * Welcome emails by recipient, counted from what reached the SMTP server, not from the service's own records:
 * one per distinct Message-ID. An email is the one side effect no transaction holds: when the commit after the
 * SMTP server took a mail is lost (the process killed, PostgreSQL restarted), the event is handled again and the
 * mail sent again, with the same Message-ID (fixed by the event, services/notifications/mailer.ts), by which
 * receivers drop it. Those resends are `resent`, reported apart; a second mail with another Message-ID is a
 * duplicate.
 */
export function welcomeEmails(sink: Awaited<ReturnType<typeof startSmtpServer>>): { byRecipient: Map<string, number>; resent: number } {
  const seen = new Set<string>()
  const byRecipient = new Map<string, number>()
  let resent = 0
  for (const mail of sink.received.filter((m) => /welcome/i.test(m.subject ?? ''))) {
    for (const to of mail.to.map((address) => address.toLowerCase())) {
      const key = `${to} ${mail.messageId}`
      if (mail.messageId && seen.has(key)) { resent += 1; continue }
      seen.add(key)
      byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1)
    }
  }
  return { byRecipient, resent }
}

/** The verdict once it holds still (late duplicates would show up), or the last one read after two minutes. */
export async function settledVerdict(read: () => Promise<Verdict>): Promise<Verdict> {
  let previous = ''
  let verdict: Verdict | undefined
  await waitFor(async () => {
    const current = await read()
    const key = JSON.stringify({ ...current, details: undefined })
    const settled = passed(current) && key === previous
    previous = key
    verdict = current
    return settled
  }, { timeoutMs: 120_000, intervalMs: 3_000, what: 'every effect to arrive' }).catch(() => {})
  return verdict ?? await read()
}

/** Deliveries the gateway repeated and the appliance absorbed (printed once, acknowledged again), from their logs. */
export function redeliveries(logDir: string, applianceNames: string[]): number {
  return applianceNames.reduce((n, name) => {
    const log = join(logDir, `${name}.log`)
    return n + (existsSync(log) ? (readFileSync(log, 'utf8').match(/delivered again/g)?.length ?? 0) : 0)
  }, 0)
}

export function lostCount(verdict: Verdict): number {
  return verdict.lostReceipts + verdict.lostEmails + verdict.missingBalances + verdict.missingSegments +
    verdict.imports.missingProducts + verdict.imports.lostCompletions
}

export function duplicatedCount(verdict: Verdict): number {
  return verdict.duplicatedReceipts + verdict.duplicatedEmails + verdict.imports.doubledProducts + verdict.imports.duplicatedCompletions
}

/** The report's table: what was committed, and what was lost, doubled or unexpected. */
export function verdictRows(profile: string, verdict: Verdict, faults: FaultRecord[], load: LoadGenerator, redelivered: number): Array<[string, string | number]> {
  return [
    ['profile', profile],
    ['faults injected', faults.length],
    ['orders committed', verdict.orders],
    ['receipts expected (order x seller)', verdict.orderDeliveries],
    ['users registered', verdict.users],
    ['lost (receipts, emails, balances, segments, imported products, import completions)', lostCount(verdict)],
    ['duplicated (receipts, emails, imported products, import completions)', duplicatedCount(verdict)],
    ['unexpected receipts', verdict.unexpectedReceipts],
    ['redelivered to appliances (absorbed, not printed)', redelivered],
    ['dead-lettered by faults', verdict.deadLettered],
    ['paid orders', verdict.checkout.paidOrders],
    ['cancelled orders (unpaid at their deadline)', verdict.checkout.cancelledOrders],
    ['captures / refunds (the provider\'s ledger)', `${verdict.checkout.captures} / ${verdict.checkout.refunds}`],
    ['double captures', verdict.checkout.doubleCaptures],
    ['captures kept without their paid order', verdict.checkout.capturesWithoutPaidOrder],
    ['paid orders whose capture was refunded', verdict.checkout.refundedPaidOrders],
    ['payments still pending', verdict.checkout.pendingPayments],
    ['lost invoices (paid order x seller)', verdict.checkout.lostInvoices],
    ['sellers whose invoice numbers are not 1..N', verdict.checkout.sellersWithNumberingGaps],
    ['products whose stock disagrees with their orders', verdict.checkout.stockMismatches],
    ['orders still unpaid well past their deadline', verdict.checkout.ordersPastDeadline],
    ['import uploads accepted / sent (repeats of an earlier file)', `${load.imports.stats.uploadsAccepted} / ${load.imports.stats.uploadsTried} (${load.imports.stats.reuploads})`],
    ['imports committed / rows', `${verdict.imports.imports} / ${verdict.imports.rows}`],
    ['imports not completed', verdict.imports.unfinished],
    ['imports whose done + failed or failures are wrong', verdict.imports.countMismatches],
    ['imports whose error file is not exactly the bad rows', verdict.imports.errorFileMismatches],
    ['requests refused or cut during faults', [load.stats.failures, load.imports.stats.failures].flatMap(Object.values).reduce((a, b) => a + b, 0)]
  ]
}

/** Prints the table, the faults and the first problems, and the PASS/FAIL line. */
export function printReport(rows: Array<[string, string | number]>, verdict: Verdict, faults: FaultRecord[]): void {
  const width = Math.max(...rows.map(([k]) => k.length))
  const table = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
  process.stdout.write(`\n${table}\n\nfaults:\n${faults.map((f) => `  ${f.at}  ${f.fault} (${f.tookMs} ms)`).join('\n')}\n`)
  if (verdict.details.length) process.stdout.write(`\nproblems:\n${verdict.details.slice(0, 30).map((d) => `  ${d}`).join('\n')}\n`)
  process.stdout.write(`\n${passed(verdict) ? 'PASS: nothing lost, nothing doubled' : 'FAIL'}\n`)
}

/** `<profile>.json` (the whole summary) and `<profile>.md` (the table, and whatever the profile adds below it). */
export function writeResults(resultsDir: string, profile: string, summary: object, rows: Array<[string, string | number]>, extraMarkdown = ''): void {
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, `${profile}.json`), JSON.stringify(summary, null, 2) + '\n')
  writeFileSync(join(resultsDir, `${profile}.md`), `| what | count |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n${extraMarkdown}`)
}

export function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
}
