/**
 * Three RabbitMQ nodes clustered on this machine, for the cluster chaos profile: the machine's own
 * `rabbitmq-server` (3.10), each node with its own name (bazaar-c1@localhost...), AMQP, management and
 * distribution ports, and its own config, data and log directories under the run's temp dir; one Erlang
 * cookie for all (in a HOME of their own, so the machine's broker and its cookie are never touched).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import amqp from 'amqplib'
import { waitFor } from '../../shared/testing/wait.ts'
import type { OrphanGuard } from './guard.ts'

const run = promisify(execFile)
const sbin = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin' : ''
const tool = (name: string) => (sbin ? join(sbin, name) : name)

export interface RabbitNode {
  name: string
  amqpPort: number
  managementPort: number
  distPort: number
  dir: string
  /** the beam.smp of the running node, from its pid file */
  pid?: number
  child?: ChildProcess
}

export class RabbitCluster {
  readonly nodes: RabbitNode[]
  private readonly home: string

  constructor(private readonly dir: string, basePort: number, private readonly guard: OrphanGuard, count = 3) {
    this.home = join(dir, 'home')
    this.nodes = Array.from({ length: count }, (_, i) => ({
      name: `bazaar-c${i + 1}@localhost`,
      amqpPort: basePort + i,
      managementPort: basePort + 10 + i,
      distPort: basePort + 20 + i,
      dir: join(dir, `c${i + 1}`)
    }))
  }

  /** Every node's AMQP URL, starting at node `first`: services get the list in turn so their connections spread. */
  amqpUrls(first = 0): string[] {
    const urls = this.nodes.map((n) => `amqp://guest:guest@127.0.0.1:${n.amqpPort}`)
    return [...urls.slice(first % urls.length), ...urls.slice(0, first % urls.length)]
  }

  managementUrl(node: RabbitNode): string {
    return `http://guest:guest@127.0.0.1:${node.managementPort}`
  }

  /** Starts the first node, then each other one and joins it to the first. */
  async start(): Promise<void> {
    mkdirSync(this.home, { recursive: true })
    const cookie = join(this.home, '.erlang.cookie')
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase())
    chmodSync(cookie, 0o400)
    for (const node of this.nodes) this.writeConfig(node)
    const [first, ...others] = this.nodes
    await this.startNode(first!)
    // started together, joined one at a time (join_cluster needs the node's app stopped)
    await Promise.all(others.map((node) => this.startNode(node)))
    for (const node of others) {
      await this.ctl(node, 'stop_app')
      await this.ctl(node, 'join_cluster', first!.name)
      await this.ctl(node, 'start_app')
    }
    await waitFor(async () => (await this.runningNodes(first!)).length === this.nodes.length, { timeoutMs: 60_000, intervalMs: 500, what: 'three nodes in the cluster' })
  }

  /** The cluster's running nodes as one node sees them. */
  async runningNodes(asSeenBy: RabbitNode): Promise<string[]> {
    const { stdout } = await this.ctl(asSeenBy, 'cluster_status', '--formatter', 'json')
    return (JSON.parse(stdout) as { running_nodes: string[] }).running_nodes
  }

  /** The open-file limit a node runs with (file_handle_cache's), to show the raised ulimit took. */
  async fileLimit(node: RabbitNode): Promise<number> {
    const { stdout } = await this.ctl(node, 'eval', 'file_handle_cache:get_limit().')
    return Number(stdout.trim())
  }

  /** SIGKILL of the node's Erlang VM: no goodbye to its peers or clients. */
  async kill(node: RabbitNode): Promise<void> {
    const child = node.child
    if (node.pid) {
      process.kill(node.pid, 'SIGKILL')
      this.guard.forget(node.pid)
    }
    if (child && child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    node.pid = undefined
    node.child = undefined
  }

  /** Starts a stopped node again with its data: it rejoins the cluster by itself. */
  async restart(node: RabbitNode): Promise<void> {
    await this.startNode(node)
  }

  /** Opens and closes one fresh AMQP connection to every running node: a node out of file handles refuses it silently. */
  async checkAcceptsConnections(): Promise<void> {
    for (const node of this.nodes.filter((n) => n.pid)) {
      await waitFor(async () => {
        const model = await amqp.connect(`amqp://guest:guest@127.0.0.1:${node.amqpPort}`, { timeout: 5_000 })
        await model.close()
        return true
      }, { timeoutMs: 60_000, intervalMs: 1_000, what: `${node.name} to accept a new connection` })
    }
  }

  /** rabbitmqctl against one node, with the cluster's cookie. */
  ctl(node: RabbitNode, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(tool('rabbitmqctl'), ['-n', node.name, ...args], { env: this.env(node), timeout: 120_000 })
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await this.kill(node).catch(() => {})
  }

  private env(node: RabbitNode): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: this.home,
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_NODE_PORT: String(node.amqpPort),
      RABBITMQ_DIST_PORT: String(node.distPort),
      // the machine's rabbitmq-env.conf names its own node: read this node's instead
      RABBITMQ_CONF_ENV_FILE: join(node.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(node.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(node.dir, 'log'),
      RABBITMQ_PID_FILE: join(node.dir, 'node.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1'
    }
  }

  private writeConfig(node: RabbitNode): void {
    mkdirSync(join(node.dir, 'log'), { recursive: true })
    writeFileSync(join(node.dir, 'rabbitmq-env.conf'), '')
    writeFileSync(join(node.dir, 'enabled_plugins'), '[rabbitmq_management].\n')
    writeFileSync(join(node.dir, 'rabbitmq.conf'), [
      `listeners.tcp.1 = 127.0.0.1:${node.amqpPort}`,
      `management.tcp.port = ${node.managementPort}`,
      'management.tcp.ip = 127.0.0.1',
      ''
    ].join('\n'))
  }

  private async startNode(node: RabbitNode): Promise<void> {
    const pidFile = join(node.dir, 'node.pid')
    rmSync(pidFile, { force: true }) // a killed node leaves its pid file: `rabbitmqctl wait` would read the old pid
    const log = createWriteStream(join(node.dir, 'log', 'console.log'), { flags: 'a' })
    // `su` in the Debian wrapper resets the open-file limit to 1,024: raise it here, to the production checklist's
    // level where the system allows it, else to the hard limit
    const child = spawn('sh', ['-c', `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${tool('rabbitmq-server')}`], {
      env: this.env(node), stdio: ['ignore', 'pipe', 'pipe'], detached: false
    })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    node.child = child
    await this.ctl(node, 'wait', pidFile, '--timeout', '120')
    node.pid = Number(readFileSync(pidFile, 'utf8').trim())
    this.guard.killOnExit(node.pid)
  }
}
