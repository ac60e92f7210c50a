import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import amqp from 'amqplib'
import { readEnv } from '../shared/config/env.ts'
import { Management } from '../shared/testing/broker.ts'
import { waitFor } from '../shared/testing/wait.ts'

const run = promisify(execFile)

/**
 * Waits until the broker runs, answers its management API and accepts a new AMQP connection again, or
 * fails the run: a node out of file handles keeps its open connections and its management API but
 * refuses new connections without a word in its log, and the services restarted after it would hang.
 */
export async function brokerReady(timeoutMs = 120_000): Promise<void> {
  const management = new Management()
  await waitFor(async () => {
    await run('rabbitmq-diagnostics', ['-q', 'check_running'], { timeout: 15_000 })
    await management.request('GET', '/api/overview')
    const connection = await amqp.connect(readEnv().amqpUrl, { timeout: 5_000 })
    await connection.close()
    return true
  }, { timeoutMs, intervalMs: 1_000, what: 'RabbitMQ to come back and accept a new connection' })
}

/** `rabbitmqctl stop_app` then `start_app`: the broker goes away politely and comes back. */
export async function restartBrokerApp(downMs: number): Promise<void> {
  await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 })
  await new Promise((resolve) => setTimeout(resolve, downMs))
  await run('rabbitmqctl', ['start_app'], { timeout: 120_000 })
  await brokerReady()
}

/** SIGKILL of the broker's Erlang VM, then a cold start: nothing graceful about it. */
export async function hardKillBroker(): Promise<void> {
  await run('pkill', ['-9', '-f', 'beam.smp.*rabbit']).catch(() => {})
  await waitFor(async () => {
    try {
      await run('pgrep', ['-f', 'beam.smp.*rabbit'])
      return false
    } catch {
      return true
    }
  }, { timeoutMs: 30_000, intervalMs: 200, what: 'the broker process to die' })
  await startBroker().catch(() => {})
  await brokerReady()
}

/**
 * Starts the machine's RabbitMQ again with 65,536 file descriptors (RabbitMQ's production checklist asks for
 * 50,000 or more), or as many as the system allows when that is fewer, as .ci/run does: at the usual 1,024 a
 * node with a few hundred quorum queues stops accepting connections.
 */
function startBroker(): Promise<unknown> {
  const asRabbit = process.getuid?.() === 0 && existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')
  if (!asRabbit) return run('rabbitmq-server', ['-detached'], { timeout: 60_000 })
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; cd /var/lib/rabbitmq && /usr/lib/rabbitmq/bin/rabbitmq-server -detached'
  return run('su', ['rabbitmq', '-s', '/bin/sh', '-c', script], { timeout: 60_000 })
}

/** Closes every client connection from the broker's side (what a network blip looks like). */
export async function closeBrokerConnections(namespace: string): Promise<number> {
  const management = new Management()
  const connections = await management.request<Array<{ name: string; client_properties?: { connection_name?: string } }>>(
    'GET', '/api/connections?columns=name,client_properties'
  )
  let closed = 0
  for (const c of connections ?? []) {
    if (!c.client_properties?.connection_name?.startsWith(`${namespace}.`)) continue
    await management.request('DELETE', `/api/connections/${encodeURIComponent(c.name)}`).catch(() => {})
    closed += 1
  }
  return closed
}

/** Restarts the PostgreSQL cluster: every pooled and LISTEN connection is cut. */
export async function restartPostgres(): Promise<void> {
  const { stdout } = await run('bash', ['-c', 'ls /etc/postgresql | sort -V | tail -n 1'])
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', stdout.trim(), 'main', 'restart', '-m', 'fast'], { timeout: 120_000 })
  await waitFor(async () => {
    await run('pg_isready', ['-q', '-h', '127.0.0.1'])
    return true
  }, { timeoutMs: 60_000, intervalMs: 500, what: 'PostgreSQL to come back' })
}
