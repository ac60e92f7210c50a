import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The chaos smoke run: the whole stack as processes under steady load while
 * each service, the gateway and the appliances are killed and restarted, a
 * consumer is stopped while its queue builds up and every broker connection
 * is cut. Nothing committed may be lost or doubled.
 * Every fault of the short profile, run back to back (10 s of load, benefits stopped 3 s): the suite's
 * only kill-and-restart test of the whole stack, kept short enough for `npm test`. The 30-s short
 * run is `npm run chaos:short`; `npm run chaos` the full one, with RabbitMQ and PostgreSQL restarts.
 */
/** A run of `count` free ports below the ephemeral range, so two suites on one machine (two worktrees) never share a stack's ports. */
async function freePortRun(count: number): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 20 * Math.floor(Math.random() * 600)
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => free(base + i)))
    if (checks.every(Boolean)) return base
  }
  throw new Error(`no run of ${count} free ports found`)
}

describe('chaos, smoke run: nothing lost, nothing doubled', function () {
  this.timeout(420_000)
  const results = mkdtempSync(join(tmpdir(), 'bazaar-chaos-'))

  after(() => rmSync(results, { recursive: true, force: true }))

  it('prints every committed order once at its seller, and gives every user one welcome email, balance and segment', async () => {
    const basePort = await freePortRun(16)
    const child = spawn(process.execPath, ['--import', 'tsx', 'chaos/run.ts'], {
      env: { ...process.env, NODE_ENV: 'production', CHAOS_PROFILE: 'short', CHAOS_SECONDS: '10', CHAOS_STOP_SECONDS: '3', CHAOS_ORDERS_PER_MINUTE: '240', CHAOS_IMPORT_ROWS: '300', CHAOS_BASE_PORT: String(basePort), CHAOS_RESULTS_DIR: results },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code, output.slice(-3000)).to.equal(0)
    const summary = JSON.parse(readFileSync(join(results, 'short.json'), 'utf8'))
    expect(summary.passed).to.equal(true)
    expect(summary.verdict.orders, 'orders were committed under load').to.be.greaterThan(20)
    expect(summary.faults.length).to.be.greaterThan(5)
    expect(summary.lost).to.equal(0)
    expect(summary.duplicated).to.equal(0)
  })
})
