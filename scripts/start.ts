/**
 * `npm start`: the whole of Bazaar on this machine. Creates the database if it
 * is missing, starts every service of shared/services.ts as its own process
 * (each migrates its own schema as it starts), waits until each answers
 * /health, prints where everything is, and on Ctrl-C (SIGINT) or SIGTERM
 * stops them in reverse order.
 *
 * Service output: JSON log lines pass through as they are (each carries its
 * `service`); anything else is prefixed with the service's name.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import amqp from 'amqplib'
import { readEnv, redactUrl } from '../shared/config/env.ts'
import { ensureDatabase } from '../shared/db/database.ts'
import { serviceTable, servicePort, thirdParties } from '../shared/services.ts'
import { startDevMailCatcher } from './dev-mail.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const startTimeoutMs = Number(process.env.START_TIMEOUT_MS || 60_000)
const stopTimeoutMs = 25_000

interface Running {
  name: string
  port: number
  child: ChildProcess
  exited: Promise<number | null>
}

const env = readEnv()
const running: Running[] = []
let stopping = false

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function fail(line: string): never {
  process.stderr.write(`npm start: ${line}\n`)
  process.exit(1)
}

/** Passes a child's output on: JSON lines unchanged, other lines prefixed with the service's name. */
function relay(name: string, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream): void {
  if (!stream) return
  const prefix = `[${name}] `
  createInterface({ input: stream }).on('line', (line) => {
    out.write(line.startsWith('{') ? `${line}\n` : `${prefix}${line}\n`)
  })
}

async function checkBroker(): Promise<void> {
  try {
    const connection = await amqp.connect(env.amqpUrl)
    await connection.close()
  } catch (err) {
    fail(`cannot reach RabbitMQ at ${redactUrl(env.amqpUrl)} (${(err as Error).message}); start it (rabbitmq-server -detached) or set AMQP_URL`)
  }
}

function start(name: string, entry: string, childEnv: NodeJS.ProcessEnv, port = servicePort(name, childEnv)): Running {
  // Its own process group: Ctrl-C reaches this script only, which stops the services in order.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  relay(name, child.stdout, process.stdout)
  relay(name, child.stderr, process.stderr)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  void exited.then((code) => {
    if (!stopping) process.stderr.write(`npm start: ${name} exited (code ${code}) while the stack was running\n`)
  })
  return { name, port, child, exited }
}

/** Resolves when the service answers 200 on /health; rejects naming it if it exits or the bound passes. */
async function healthy(service: Running, deadline: number): Promise<void> {
  const url = `http://127.0.0.1:${service.port}/health`
  let exitCode: number | null | undefined
  void service.exited.then((code) => { exitCode = code })
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${service.name} exited with code ${exitCode} before it was healthy (its log is above)`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      if (response.status === 200) return
      last = `${response.status} ${(await response.text()).slice(0, 200)}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${service.name} did not answer 200 on ${url} within ${startTimeoutMs} ms (last: ${last}); set START_TIMEOUT_MS to wait longer`)
}

/** SIGTERM to each child, last started first, each given time to finish its work, then SIGKILL. */
async function stopAll(): Promise<void> {
  stopping = true
  for (const service of [...running].reverse()) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) continue
    service.child.kill('SIGTERM')
    const timer = setTimeout(() => service.child.kill('SIGKILL'), stopTimeoutMs)
    await service.exited
    clearTimeout(timer)
    say(`stopped ${service.name}`)
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return
  say(`\n${signal}: stopping services in reverse order`)
  void stopAll().then(() => process.exit(0))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
// However this script ends, it leaves no service behind.
process.on('exit', () => {
  for (const service of running) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM')
})

try {
  await ensureDatabase(env.databaseUrl)
} catch (err) {
  fail((err as Error).message)
}
await checkBroker()
const mail = await startDevMailCatcher(say).catch(() => undefined)

// Every service finds the others where this script starts them, even on ports moved with <NAME>_PORT.
const childEnv: NodeJS.ProcessEnv = { ...process.env, ...(mail ? { SMTP_URL: mail.url } : {}) }
for (const { name } of serviceTable) {
  childEnv[`${name.toUpperCase()}_URL`] ||= `http://127.0.0.1:${servicePort(name)}`
}

// The simulated third parties first: the services that call them find them at their <NAME>_URL.
for (const party of thirdParties) {
  const port = Number(childEnv[party.portVariable] || party.port)
  childEnv[party.urlVariable] ||= `http://127.0.0.1:${port}`
  running.push(start(party.name, party.entry, childEnv, port))
}
for (const { name } of serviceTable) {
  const entry = join('services', name, 'index.ts')
  if (!existsSync(join(root, entry))) {
    say(`warning: ${relative(root, join(root, entry))} does not exist yet; ${name} is not started`)
    continue
  }
  running.push(start(name, entry, childEnv))
}
if (running.length === thirdParties.length) fail('no service has an index.ts yet: nothing to start')

const deadline = Date.now() + startTimeoutMs
const results = await Promise.allSettled(running.map((service) => healthy(service, deadline)))
const problems = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []))
if (problems.length) {
  for (const problem of problems) process.stderr.write(`npm start: ${problem}\n`)
  await stopAll()
  process.exit(1)
}

const width = Math.max(...running.map((s) => s.name.length))
const gateway = running.find((s) => s.name === 'gateway')
say('')
say('Bazaar is up.')
say(gateway ? `  public origin        http://127.0.0.1:${gateway.port}   (REST and /events; try: npm run demo)` : '  public origin        (not running: services/gateway/index.ts is missing)')
if (gateway) {
  say(`  warehouse page       http://127.0.0.1:${gateway.port}/warehouse?token=<appliance token>`)
  say('                       (a seller gets one with POST /appliances {"name":"..."} and their JWT; the token is shown once)')
  say(`  API description      http://127.0.0.1:${gateway.port}/openapi.json   (OpenAPI 3.1)`)
}
say(`  RabbitMQ management  http://${new URL(env.amqpUrl).hostname}:15672   (namespace ${env.namespace}: exchange ${env.namespace}.events)`)
say(`  PostgreSQL           ${redactUrl(env.databaseUrl)}   (one schema per service: ${env.namespace}_<service>)`)
say(`  card provider        http://127.0.0.1:${running.find((s) => s.name === 'card-provider')?.port}   (simulated third party: tok_ok, tok_declined, tok_flaky, tok_slow)`)
say('  services (internal):')
for (const service of running.filter((s) => !thirdParties.some((party) => party.name === s.name))) say(`    ${service.name.padEnd(width)}  http://127.0.0.1:${service.port}`)
say(mail ? `  mail                 ${mail.url}   (development catcher: each email is shown here as a line)` : `  mail                 ${env.smtpUrl}`)
say('Ctrl-C stops everything.')
