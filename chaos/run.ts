/**
 * `npm run chaos`: the whole stack as separate processes, appliances printing,
 * a steady load, and faults injected in turn; then count what was lost or
 * doubled. Exit 1 if anything was.
 *
 *   CHAOS_PROFILE=full|short|cluster   full also restarts RabbitMQ and PostgreSQL (default full); or `--profile <name>`.
 *                              cluster: a RabbitMQ cluster, a PostgreSQL failover, every service twice (chaos/cluster/run.ts)
 *   CHAOS_SECONDS=300          how long the load runs (short: 40)
 *   CHAOS_MIN_PAID=2000        fewer paid orders than this fails the run (short: 0): the checkout must carry the load, not only survive it
 *   CHAOS_ORDERS_PER_MINUTE=900  requests per minute, two orders (each paid, or left to its deadline) to one registration (short: 300)
 *   CHAOS_BASE_PORT=4100       ports used by this run's services
 *   CHAOS_KEEP=1               keep the namespace, schemas and logs afterwards
 *                              (a failed run always keeps its logs, in .chaos/<namespace>/logs)
 *   CHAOS_RESULTS_DIR=dir      where the JSON and Markdown results go (default chaos/results)
 *   CHAOS_FUZZ_REQUESTS=10000  then the REST fuzzer with this many requests (default 10000 in full, 0 in short)
 *   CHAOS_STOP_SECONDS=15      how long a consumer stays stopped while its queue builds up
 *   CHAOS_IMPORT_EVERY_SECONDS=20, CHAOS_IMPORT_ROWS=1200   a seller uploads a product file this often, this long (full: 30, 500)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { readEnv } from '../shared/config/env.ts'
import { ensureDatabase } from '../shared/db/database.ts'
import { serviceTable, thirdParties } from '../shared/services.ts'
import { Management } from '../shared/testing/broker.ts'
import { dropNamespaceSchemas } from '../shared/testing/database.ts'
import { brokerReady, closeBrokerConnections, hardKillBroker, restartBrokerApp, restartPostgres } from './faults.ts'
import { LoadGenerator, importsFromEnv, prepareSellers } from './load.ts'
import { startSmtpServer } from '../shared/testing/smtp.ts'
import { startAppliances } from './appliances.ts'
import { Supervised } from './supervisor.ts'
import { passed, verify, type Verdict } from './verify.ts'
import { runFuzz } from './fuzz.ts'
import { drained, duplicatedCount, lostCount, printReport, redeliveries, settledVerdict, sleepUntil, verdictRows, welcomeEmails, writeResults, type FaultRecord } from './outcome.ts'
import { chosenProfile } from './profile.ts'

const root = resolve(import.meta.dirname, '..')
const profile = chosenProfile() === 'short' ? 'short' : 'full'
// full: at least 2,000 paid orders under every fault (issue 14); short: a quick look
const seconds = Number(process.env.CHAOS_SECONDS || (profile === 'short' ? 40 : 300))
const minPaidOrders = Number(process.env.CHAOS_MIN_PAID ?? (profile === 'short' ? 0 : 2_000))
const ordersPerMinute = Number(process.env.CHAOS_ORDERS_PER_MINUTE || (profile === 'short' ? 300 : 900))
const basePort = Number(process.env.CHAOS_BASE_PORT || 4100)
const keep = process.env.CHAOS_KEEP === '1'
const stopSeconds = Number(process.env.CHAOS_STOP_SECONDS || 15)
const fuzzRequests = Number(process.env.CHAOS_FUZZ_REQUESTS ?? (profile === 'full' ? 10_000 : 0))
const namespace = `chaos_${randomBytes(3).toString('hex')}`
/** unpaid orders are cancelled this long after they were placed, within the run */
const paymentTimeoutMs = 20_000
const workDir = join(root, '.chaos', namespace)
const say = (line: string) => process.stdout.write(`[chaos] ${line}\n`)

async function main(): Promise<number> {
  const env = readEnv()
  await ensureDatabase(env.databaseUrl)
  const sink = await startSmtpServer()

  const ports = new Map(serviceTable.map((s, i) => [s.name, s.name === 'gateway' ? basePort : basePort + 1 + i]))
  const vars: NodeJS.ProcessEnv = { ...process.env, BAZAAR_NAMESPACE: namespace, SMTP_URL: sink.url, NODE_ENV: 'production', LOG_LEVEL: 'info' }
  for (const [name, port] of ports) {
    if (name === 'gateway') vars.PORT = String(port)
    else vars[`${name.toUpperCase()}_PORT`] = String(port)
    vars[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${port}`
  }
  vars.ORDER_PAYMENT_TIMEOUT = String(paymentTimeoutMs)
  // the simulated card provider, its own process like the services (and killed like them)
  const providerPort = basePort + serviceTable.length + 1
  for (const party of thirdParties) {
    vars[party.portVariable] = String(providerPort)
    vars[party.urlVariable] = `http://127.0.0.1:${providerPort}`
  }
  const thirdPartyProcesses = thirdParties.map((party) => new Supervised({
    name: party.name,
    args: ['--import', 'tsx', join(root, party.entry)],
    env: vars,
    healthUrl: `http://127.0.0.1:${providerPort}/health`,
    logDir: join(workDir, 'logs'),
    restartOnCrash: true
  }))
  const base = `http://127.0.0.1:${ports.get('gateway')}`
  const services = new Map(
    serviceTable.map((s) => [s.name, new Supervised({
      name: s.name,
      args: ['--import', 'tsx', join(root, 'services', s.name, 'index.ts')],
      env: vars,
      healthUrl: `http://127.0.0.1:${ports.get(s.name)}/health`,
      logDir: join(workDir, 'logs'),
      restartOnCrash: true
    })])
  )
  const appliances: Supervised[] = []
  const faults: FaultRecord[] = []
  let verdict: Verdict | undefined
  let load: LoadGenerator | undefined
  let succeeded = false
  try {
    say(`namespace ${namespace}, profile ${profile}, ${seconds} s of load at ${ordersPerMinute} orders/min`)
    await Promise.all(thirdPartyProcesses.map((p) => p.start()))
    await Promise.all([...services.values()].filter((s) => s.spec.name !== 'gateway').map((s) => s.start()))
    await services.get('gateway')!.start()
    say(`stack up at ${base}`)

    const sellers = await prepareSellers(base, 3, 4)
    const applianceDirs = await startAppliances(sellers, appliances, { root, workDir, base, env: vars, logDir: join(workDir, 'logs') })
    // Products reach the orders projection through events: wait until an order can be placed.
    // the full profile's 900 requests a minute already fill the 2 cores: a lighter import load beside them
    load = new LoadGenerator(base, sellers, ordersPerMinute, 3, importsFromEnv(profile === 'full' ? { seconds: 30, rows: 500 } : undefined))
    load.start()

    const steps = faultPlan(services, appliances, thirdPartyProcesses, namespace)
    const gap = (seconds * 1000) / (steps.length + 1)
    const started = Date.now()
    for (const step of steps) {
      await sleepUntil(started + gap * (faults.length + 1))
      const t0 = Date.now()
      say(`fault: ${step.name}`)
      await step.run()
      faults.push({ fault: step.name, at: new Date(t0).toISOString(), tookMs: Date.now() - t0 })
    }
    await sleepUntil(started + seconds * 1000)
    await load.stop()
    say(`load stopped: ${JSON.stringify(load.stats)}, imports ${JSON.stringify(load.imports.stats)}`)

    // the broker this run leaves behind must still take a new connection, or the run fails
    await brokerReady(60_000)
    say('waiting for queues and outboxes to drain')
    await drained(namespace, env.databaseUrl)
    verdict = await settledVerdict(() => verify({ namespace, databaseUrl: env.databaseUrl, applianceDirs, welcomeEmails: welcomeEmails(sink).byRecipient, paymentTimeoutMs, uploadedImports: load!.imports.uploaded, mail: sink.received }))
    const redelivered = redeliveries(join(workDir, 'logs'), appliances.map((a) => a.spec.name))
    report(verdict, faults, load, redelivered, [...thirdPartyProcesses, ...services.values()].flatMap((p) => p.crashLines), welcomeEmails(sink).resent)
    succeeded = passed(verdict) && enoughPaid(verdict)
    return succeeded ? 0 : 1
  } finally {
    await load?.stop()
    for (const appliance of appliances) await appliance.kill('SIGTERM').catch(() => {})
    for (const service of [...services.values()].reverse()) await service.kill('SIGTERM').catch(() => {})
    for (const party of thirdPartyProcesses) await party.kill('SIGTERM').catch(() => {})
    for (const p of [...appliances, ...services.values(), ...thirdPartyProcesses]) p.close()
    await sink.close()
    if (!keep) {
      await new Management().deleteNamespace(namespace).catch(() => {})
      await dropNamespaceSchemas(namespace, env.databaseUrl).catch(() => {})
      // a failed run keeps its services' logs: the failure must be explainable afterwards
      if (succeeded) rmSync(workDir, { recursive: true, force: true })
      else say(`logs kept in ${join(workDir, 'logs')}`)
    } else say(`kept ${workDir}`)
  }
}

function faultPlan(services: Map<string, Supervised>, appliances: Supervised[], thirdPartyProcesses: Supervised[], namespace: string) {
  const kill = (name: string) => ({ name: `SIGKILL ${name}, restart`, run: () => services.get(name)!.restart('SIGKILL') })
  const steps: Array<{ name: string; run: () => Promise<unknown> }> = []
  for (const name of ['orders', 'payments', 'notifications', 'users', 'fulfilment', 'benefits', 'segments', 'catalog', 'chat']) steps.push(kill(name))
  for (const party of thirdPartyProcesses) steps.push({ name: `SIGKILL ${party.spec.name}, restart`, run: () => party.restart('SIGKILL') })
  if (profile === 'full') for (const name of ['subscriptions', 'reference', 'storefronts']) steps.push(kill(name))
  steps.push({ name: 'SIGKILL gateway, restart', run: () => services.get('gateway')!.restart('SIGKILL') })
  steps.push({
    name: 'drop appliance connections (kill and restart each appliance)',
    run: async () => { for (const a of appliances) await a.restart('SIGKILL') }
  })
  steps.push({ name: 'close every broker connection', run: () => closeBrokerConnections(namespace) })
  steps.push({
    name: `stop benefits ${stopSeconds} s (its queue builds up)`,
    run: async () => {
      await services.get('benefits')!.kill('SIGTERM')
      await new Promise((resolve) => setTimeout(resolve, stopSeconds * 1000))
      await services.get('benefits')!.start()
    }
  })
  if (profile === 'full') {
    steps.splice(3, 0, { name: 'rabbitmqctl stop_app / start_app', run: () => restartBrokerApp(5_000) })
    steps.splice(7, 0, { name: 'restart PostgreSQL', run: () => restartPostgres() })
    steps.push({ name: 'hard kill of the broker (SIGKILL beam), cold start', run: () => hardKillBroker() })
  }
  return steps
}

const enoughPaid = (verdict: Verdict) => verdict.checkout.paidOrders >= minPaidOrders

function report(verdict: Verdict, faults: FaultRecord[], load: LoadGenerator, redelivered: number, crashes: string[], resentEmails: number): void {
  const rows = verdictRows(profile, verdict, faults, load, redelivered)
  rows.push(['paid orders the profile asks for at least', minPaidOrders])
  rows.push(['welcome emails sent again with their first Message-ID (a commit lost after the SMTP server took them)', resentEmails])
  rows.push(['services that exited by themselves and were started again', crashes.length])
  if (crashes.length) process.stdout.write(`\ncrashes:\n${crashes.map((c) => `  ${c}`).join('\n')}\n`)
  printReport(rows, verdict, faults)
  if (!enoughPaid(verdict)) process.stdout.write(`FAIL: ${verdict.checkout.paidOrders} paid orders, fewer than the ${minPaidOrders} this profile asks for\n`)
  const summary = { date: new Date().toISOString(), profile, seconds, ordersPerMinute, minPaidOrders, resentEmails, lost: lostCount(verdict), duplicated: duplicatedCount(verdict), redelivered, verdict, faults, crashes, load: load.stats, imports: load.imports.stats, passed: passed(verdict) && enoughPaid(verdict) }
  writeResults(process.env.CHAOS_RESULTS_DIR || join(root, 'chaos', 'results'), profile, summary, rows)
}

/** After the fault phase (its stack stopped): the fuzz phase, its figures printed and saved beside the others. */
async function fuzzPhase(): Promise<number> {
  if (!(fuzzRequests > 0)) return 0
  const result = await runFuzz(root, fuzzRequests, say)
  if (!result.passed) process.stdout.write(`\nfuzz problems:\n${result.tail}\n`)
  process.stdout.write(`\nREST fuzz requests  ${result.requests} in ${result.seconds.toFixed(0)} s: ${result.passed ? 'PASS' : 'FAIL'}\n`)
  const resultsDir = process.env.CHAOS_RESULTS_DIR || join(root, 'chaos', 'results')
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, `${profile}-fuzz.json`), JSON.stringify({ date: new Date().toISOString(), requested: fuzzRequests, ...result }, null, 2) + '\n')
  return result.passed ? 0 : 1
}

if (chosenProfile() === 'cluster') await import('./cluster/run.ts')
else main().then(
  async (code) => {
    const fuzz = await fuzzPhase().catch((err: Error) => {
      process.stderr.write(`chaos fuzz phase: ${err.message}\n`)
      return 1
    })
    process.exit(fuzz || code)
  },
  (err) => {
    process.stderr.write(`chaos: ${(err as Error).message}\n`)
    process.exit(1)
  }
)
