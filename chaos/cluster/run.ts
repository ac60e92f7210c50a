/**
 * `npm run chaos -- --profile cluster` (or CHAOS_PROFILE=cluster): Bazaar beyond one machine, on one.
 * A RabbitMQ cluster of three nodes, a PostgreSQL primary with a synchronous streaming standby behind
 * a TCP proxy (the `-rw` Service of CloudNativePG), two instances of every service behind round-robin
 * fronts and two gateways behind the public origin; all of it started here, on ports and directories
 * of its own, and gone when the run ends. The machine's RabbitMQ (5672) and PostgreSQL (5432) are not
 * used. Faults: RabbitMQ nodes SIGKILLed (one, then two: the majority lost), the memory alarm, the
 * PostgreSQL failover, service instances and gateways SIGKILLed, SSE clients dropped. Then the same
 * verdict as the other profiles, and what each fault did to order-to-receipt latency. docs/cluster.md.
 *
 *   CHAOS_SECONDS=1200           how long the load runs
 *   CHAOS_ORDERS_PER_MINUTE=300  requests per minute, nine orders to one registration
 *   CHAOS_BASE_PORT=4600         ports: fronts and instances from here, brokers +100, PostgreSQL +130
 *   CHAOS_KEEP=1                 keep the temp dir (logs, receipts, broker and database data)
 *   CHAOS_RESULTS_DIR=dir        where cluster.json and cluster.md go (default chaos/results)
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ensureDatabase } from '../../shared/db/database.ts'
import { serviceTable, thirdParties } from '../../shared/services.ts'
import { Management } from '../../shared/testing/broker.ts'
import { startSmtpServer } from '../../shared/testing/smtp.ts'
import { closeBrokerConnections } from '../faults.ts'
import { LoadGenerator, prepareSellers } from '../load.ts'
import { drained, duplicatedCount, lostCount, printReport, redeliveries, settledVerdict, sleepUntil, verdictRows, welcomeEmails, writeResults, type FaultRecord } from '../outcome.ts'
import { startAppliances } from '../appliances.ts'
import { Supervised } from '../supervisor.ts'
import { passed, verify } from '../verify.ts'
import { OrphanGuard } from './guard.ts'
import { latencyByFault, latencyMarkdown, receiptLatencies, type Window } from './latency.ts'
import { PgPair } from './postgres.ts'
import { RabbitCluster, type RabbitNode } from './rabbit.ts'
import { TcpFront } from './tcp-front.ts'

const root = resolve(import.meta.dirname, '..', '..')
// 5,000 orders or more at a rate two cores shared with the rest of the machine sustain (docs/cluster.md)
const seconds = Number(process.env.CHAOS_SECONDS || 1200)
const ordersPerMinute = Number(process.env.CHAOS_ORDERS_PER_MINUTE || 300)
const basePort = Number(process.env.CHAOS_BASE_PORT || 4600)
const keep = process.env.CHAOS_KEEP === '1'
const namespace = `chaos_${randomBytes(3).toString('hex')}`
const paymentTimeoutMs = 20_000
/** one registration to this many orders less one (the load generator's `usersEvery`): a registration and its login hash a password twice */
const usersEvery = 10
const say = (line: string) => process.stdout.write(`[chaos cluster] ${line}\n`)
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * How the instances are run: started again when they exit by themselves (a pod's restartPolicy), each
 * such crash counted in the report; a start on this busy machine may take longer than the usual 90 s.
 */
const asPods = { restartOnCrash: true, healthTimeoutMs: 150_000 }

/** Two processes of one service (or gateway) behind one front: what a Deployment of two replicas and its Service are. */
interface Pair { name: string; front: TcpFront; instances: Supervised[] }

async function main(): Promise<number> {
  const guard = new OrphanGuard()
  const workDir = mkdtempSync(join(tmpdir(), 'bazaar-cluster-'))
  chmodSync(workDir, 0o755) // the postgres user must reach its data directories below
  if (!keep) guard.removeOnExit(workDir)
  const logDir = join(workDir, 'logs')
  const rabbit = new RabbitCluster(join(workDir, 'rabbit'), basePort + 100, guard)
  const postgres = new PgPair(join(workDir, 'pg'), basePort + 130, guard)
  const pgProxy = new TcpFront('postgres-rw', basePort + 132, [postgres.primary.port])
  const databaseUrl = `postgres://postgres@127.0.0.1:${pgProxy.port}/bazaar`
  const pairs: Pair[] = []
  const appliances: Supervised[] = []
  const provider: Supervised[] = []
  const faults: FaultRecord[] = []
  const windows: Window[] = []
  let load: LoadGenerator | undefined
  let sink: Awaited<ReturnType<typeof startSmtpServer>> | undefined
  const everything = () => [...appliances, ...pairs.flatMap((p) => p.instances), ...provider]
  running = everything
  try {
    say(`namespace ${namespace}, ${seconds} s of load at ${ordersPerMinute} requests/min, in ${workDir}`)
    let t0 = Date.now()
    await Promise.all([rabbit.start(), postgres.start().then(() => pgProxy.start())])
    const fileLimits = await Promise.all(rabbit.nodes.map((n) => rabbit.fileLimit(n)))
    say(`RabbitMQ ${rabbit.nodes.map((n) => n.name).join(', ')} clustered (file handles ${fileLimits.join(', ')}), PostgreSQL primary :${postgres.primary.port} streaming to :${postgres.standby.port}, proxy :${pgProxy.port} (${Date.now() - t0} ms)`)
    // this process's own management calls (drain, dead letters, closing connections) go to the node never killed
    const watcher = rabbit.nodes[2]!
    process.env.RABBITMQ_MANAGEMENT_URL = rabbit.managementUrl(watcher)
    await ensureDatabase(databaseUrl)
    sink = await startSmtpServer()

    const vars: NodeJS.ProcessEnv = {
      ...process.env, BAZAAR_NAMESPACE: namespace, SMTP_URL: sink.url, NODE_ENV: 'production', LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl, AMQP_URL: rabbit.amqpUrls().join(','), RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl(watcher),
      ORDER_PAYMENT_TIMEOUT: String(paymentTimeoutMs), GATEWAY_URL: `http://127.0.0.1:${basePort}`
    }
    const services = serviceTable.filter((s) => s.name !== 'gateway')
    const frontPort = (i: number) => basePort + 10 + i
    services.forEach((s, i) => { vars[`${s.name.toUpperCase()}_URL`] = `http://127.0.0.1:${frontPort(i)}` })
    const providerPort = basePort + 90
    for (const party of thirdParties) {
      vars[party.portVariable] = String(providerPort)
      vars[party.urlVariable] = `http://127.0.0.1:${providerPort}`
    }
    // each instance gets the node list starting at another node, so the connections spread over the cluster
    let spread = 0
    const instanceEnv = (portVariable: string, port: number): NodeJS.ProcessEnv =>
      ({ ...vars, [portVariable]: String(port), AMQP_URL: rabbit.amqpUrls(spread++).join(',') })
    provider.push(...thirdParties.map((party) => new Supervised({
      name: party.name, args: ['--import', 'tsx', join(root, party.entry)], env: vars,
      healthUrl: `http://127.0.0.1:${providerPort}/health`, logDir, ...asPods
    })))
    services.forEach((s, i) => {
      const ports = [basePort + 40 + 2 * i, basePort + 41 + 2 * i]
      pairs.push({
        name: s.name,
        front: new TcpFront(s.name, frontPort(i), ports),
        instances: ports.map((port, k) => new Supervised({
          name: `${s.name}-${k + 1}`, args: ['--import', 'tsx', join(root, 'services', s.name, 'index.ts')],
          env: instanceEnv(`${s.name.toUpperCase()}_PORT`, port), healthUrl: `http://127.0.0.1:${port}/health`, logDir, ...asPods
        }))
      })
    })
    const gatewayPorts = [basePort + 1, basePort + 2]
    const gateways: Pair = {
      name: 'gateway',
      front: new TcpFront('public origin', basePort, gatewayPorts),
      instances: gatewayPorts.map((port, k) => new Supervised({
        name: `gateway-${k + 1}`, args: ['--import', 'tsx', join(root, 'services', 'gateway', 'index.ts')],
        env: instanceEnv('PORT', port), healthUrl: `http://127.0.0.1:${port}/health`, logDir, ...asPods
      }))
    }
    pairs.push(gateways)
    for (const pair of pairs) await pair.front.start()

    t0 = Date.now()
    await Promise.all(provider.map((p) => p.start()))
    // first instances together (each service migrates its schema), then the second ones
    for (const k of [0, 1]) await Promise.all(pairs.filter((p) => p !== gateways).map((p) => p.instances[k]!.start()))
    for (const gateway of gateways.instances) await gateway.start()
    const base = `http://127.0.0.1:${basePort}`
    say(`${everything().length} processes up at ${base} (${Date.now() - t0} ms)`)

    // 16 products a seller: every order locks its products' rows, and two orders instances on 12 hot rows deadlock
    const sellers = await prepareSellers(base, 3, 16)
    const applianceDirs = await startAppliances(sellers, appliances, { root, workDir, base, env: vars, logDir: logDir })
    const replication = await quorumReplication(rabbit.nodes.length)
    say(`quorum queues of ${namespace}: ${replication.queues}, members ${replication.minMembers}..${replication.maxMembers} of ${rabbit.nodes.length} nodes`)

    load = new LoadGenerator(base, sellers, ordersPerMinute, usersEvery)
    load.start()
    const steps = faultPlan(rabbit, postgres, pgProxy, pairs, provider, appliances)
    const gap = (seconds * 1000) / (steps.length + 1)
    const started = Date.now()
    for (const step of steps) {
      await sleepUntil(started + gap * (faults.length + 1))
      const from = Date.now()
      say(`fault: ${step.name}`)
      await step.run()
      const to = Date.now()
      faults.push({ fault: step.name, at: new Date(from).toISOString(), tookMs: to - from })
      windows.push({ fault: step.name, from, to })
    }
    await sleepUntil(started + seconds * 1000)
    await load.stop()
    say(`load stopped: ${JSON.stringify(load.stats)}, imports ${JSON.stringify(load.imports.stats)}`)
    // the broker left behind must take new connections (a node out of file handles refuses them silently)
    await rabbit.checkAcceptsConnections()

    say('waiting for queues and outboxes to drain')
    await drained(namespace, databaseUrl)
    const verdict = await settledVerdict(() => verify({ namespace, databaseUrl, applianceDirs, welcomeEmails: welcomeEmails(sink!).byRecipient, paymentTimeoutMs, uploadedImports: load!.imports.uploaded, mail: sink!.received }))
    const redelivered = redeliveries(logDir, appliances.map((a) => a.spec.name))
    const latency = latencyByFault(await receiptLatencies(databaseUrl, namespace, applianceDirs), windows)
    const blocked = countInLogs(logDir, /broker blocked the connection/)
    const failedOver = countInLogs(logDir, /RabbitMQ node unreachable, trying the next|lost RabbitMQ connection, reconnecting/)
    const crashes = everything().flatMap((p) => p.crashLines)
    const sameMessageId = welcomeEmails(sink!).resent
    const rows = verdictRows('cluster', verdict, faults, load, redelivered)
    rows.push(
      ['RabbitMQ nodes / quorum queue members (min..max)', `${rabbit.nodes.length} / ${replication.minMembers}..${replication.maxMembers}`],
      ['service instances / gateways', `${pairs.flatMap((p) => p.instances).length - gateways.instances.length} / ${gateways.instances.length}`],
      ['connections blocked by the memory alarm (service logs)', blocked],
      ['broker connections lost or refused, moved to the next node (service logs)', failedOver],
      ['instances that exited by themselves and were started again', crashes.length],
      ['restarts not healthy in time, killed and started once more', stuckStarts.length],
      ['welcome emails sent again with their first Message-ID (a commit lost after the SMTP server took them)', sameMessageId]
    )
    if (crashes.length) process.stdout.write(`\ncrashes:\n${crashes.map((c) => `  ${c}`).join('\n')}\n`)
    if (stuckStarts.length) process.stdout.write(`\nstuck starts:\n${stuckStarts.map((c) => `  ${c}`).join('\n')}\n`)
    printReport(rows, verdict, faults)
    process.stdout.write(latencyMarkdown(latency))
    const summary = {
      date: new Date().toISOString(), profile: 'cluster', seconds, ordersPerMinute, lost: lostCount(verdict), duplicated: duplicatedCount(verdict),
      redelivered, verdict, faults, latency, replication, fileLimits, blocked, failedOver, crashes, stuckStarts, duplicatedEmailsWithSameMessageId: sameMessageId, load: load.stats, imports: load.imports.stats, passed: passed(verdict)
    }
    writeResults(process.env.CHAOS_RESULTS_DIR || join(root, 'chaos', 'results'), 'cluster', summary, rows, latencyMarkdown(latency))
    return passed(verdict) ? 0 : 1
  } finally {
    await load?.stop()
    for (const p of everything().reverse()) await p.kill('SIGTERM', 10_000).catch(() => {})
    for (const p of everything()) p.close()
    for (const pair of pairs) await pair.front.close().catch(() => {})
    await pgProxy.close().catch(() => {})
    await sink?.close()
    await rabbit.stop()
    await postgres.stop()
    if (keep) say(`kept ${workDir}`)
    await guard.close()
  }
}

type Step = { name: string; run: () => Promise<unknown> }

function faultPlan(rabbit: RabbitCluster, postgres: PgPair, pgProxy: TcpFront, pairs: Pair[], provider: Supervised[], appliances: Supervised[]): Step[] {
  const instance = (name: string, k: number) => pairs.find((p) => p.name === name)!.instances[k - 1]!
  const kill = (...which: Array<[string, number]>): Step => ({
    name: `SIGKILL ${which.map(([n, k]) => `${n}-${k}`).join(', ')}, restart`,
    run: () => Promise.all(which.map(([n, k]) => restartLikeAPod(instance(n, k))))
  })
  const [c1, c2, c3] = rabbit.nodes as [RabbitNode, RabbitNode, RabbitNode]
  const nodeDown = (nodes: RabbitNode[], downMs: number) => async () => {
    for (const node of nodes) await rabbit.kill(node)
    await pause(downMs)
    await Promise.all(nodes.map((node) => rabbit.restart(node)))
    await waitForCluster(rabbit, c3)
    await rabbit.checkAcceptsConnections()
  }
  return [
    kill(['orders', 1]),
    { name: `SIGKILL RabbitMQ node ${c1.name}, 10 s down, restart`, run: nodeDown([c1], 10_000) },
    kill(['payments', 2], ['users', 1]),
    {
      name: `memory alarm on ${c2.name} (vm_memory_high_watermark 0.0001) 15 s, then back`,
      run: async () => {
        await rabbit.ctl(c2, 'set_vm_memory_high_watermark', '0.0001')
        await pause(15_000)
        await rabbit.ctl(c2, 'set_vm_memory_high_watermark', '0.4')
        await rabbit.checkAcceptsConnections()
      }
    },
    { name: 'SIGKILL gateway-1 (its SSE clients drop), restart', run: () => restartLikeAPod(instance('gateway', 1)) },
    {
      name: 'PostgreSQL failover: primary crashes (immediate stop), standby promoted, proxy switched',
      run: async () => {
        await postgres.failover()
        pgProxy.switchTo([postgres.standby.port])
      }
    },
    kill(['notifications', 1], ['fulfilment', 2]),
    { name: `SIGKILL RabbitMQ nodes ${c1.name} and ${c2.name} (majority lost) 10 s, restart both`, run: nodeDown([c1, c2], 10_000) },
    { name: 'drop appliance SSE connections (kill and restart each appliance)', run: async () => { for (const a of appliances) await a.restart('SIGKILL') } },
    kill(['catalog', 2], ['benefits', 1], ['segments', 2]),
    ...provider.map((p) => ({ name: `SIGKILL ${p.spec.name}, restart`, run: () => restartLikeAPod(p) })),
    { name: 'close every broker connection', run: () => closeBrokerConnections(namespace) },
    kill(['chat', 1], ['storefronts', 2], ['subscriptions', 1], ['reference', 2]),
    { name: 'SIGKILL gateway-2 (its SSE clients drop), restart', run: () => restartLikeAPod(instance('gateway', 2)) }
  ]
}

/** starts that did not get healthy in time and were killed and started once more (a failed liveness probe) */
const stuckStarts: string[] = []

/**
 * SIGKILL and start again; a start that is not healthy in time is killed and started once more, as
 * Kubernetes does with a pod whose probe fails. Each such stuck start is reported, with the instance's last lines.
 */
async function restartLikeAPod(p: Supervised): Promise<void> {
  try {
    await p.restart('SIGKILL')
  } catch (err) {
    stuckStarts.push(`${p.spec.name}: ${(err as Error).message.slice(0, 200)} | ${lastLines(join(p.spec.logDir, `${p.spec.name}.log`))}`)
    await p.restart('SIGKILL')
  }
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ').slice(0, 600)
  } catch {
    return ''
  }
}

/** All nodes running again, as the node never killed sees them. */
async function waitForCluster(rabbit: RabbitCluster, watcher: RabbitNode): Promise<void> {
  const deadline = Date.now() + 120_000
  while ((await rabbit.runningNodes(watcher).catch(() => [])).length < rabbit.nodes.length) {
    if (Date.now() > deadline) throw new Error('the RabbitMQ nodes did not rejoin the cluster within 120 s')
    await pause(500)
  }
}

/** How many nodes hold each of the namespace's quorum queues (x-quorum-initial-group-size is not set: all of them). */
async function quorumReplication(nodes: number): Promise<{ queues: number; minMembers: number; maxMembers: number }> {
  const all = await new Management().request<Array<{ name: string; type: string; members?: string[] }>>('GET', '/api/queues/%2F?columns=name,type,members')
  const quorum = (all ?? []).filter((q) => q.name.startsWith(`${namespace}.`) && q.type === 'quorum')
  const members = quorum.map((q) => q.members?.length ?? 0)
  const replication = { queues: quorum.length, minMembers: Math.min(...members), maxMembers: Math.max(...members) }
  if (replication.minMembers !== nodes) throw new Error(`a quorum queue is on ${replication.minMembers} of ${nodes} nodes`)
  return replication
}

/** Lines matching in every process's log: what the services said about the broker. */
function countInLogs(logDir: string, pattern: RegExp): number {
  let n = 0
  for (const file of readdirSync(logDir)) n += readFileSync(join(logDir, file), 'utf8').split('\n').filter((line) => pattern.test(line)).length
  return n
}

/** the supervised processes of the run, for an interrupt to take down at once */
let running: () => Supervised[] = () => []

process.on('SIGINT', () => {
  say('interrupted: the guard stops the brokers and databases and removes the temp dir')
  // SIGKILL now: a service whose brokers the guard is killing can hang in its graceful shutdown
  for (const p of running()) void p.kill('SIGKILL', 1_000).catch(() => {})
  process.exit(130)
})

const code = await main().catch((err: Error) => {
  process.stderr.write(`chaos cluster: ${err.stack ?? err.message}\n`)
  return 1
})
process.exit(code)
