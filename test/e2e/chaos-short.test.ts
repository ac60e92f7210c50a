import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The short chaos run: the whole stack as processes under steady load while
 * each service, the gateway and the appliances are killed and restarted, a
 * consumer is stopped long enough for its queue to build up and every broker
 * connection is cut. Nothing committed may be lost or doubled.
 * (`npm run chaos` runs the full version, with RabbitMQ and PostgreSQL restarts.)
 */
describe('chaos, short run: nothing lost, nothing doubled', function () {
  this.timeout(420_000)
  const results = mkdtempSync(join(tmpdir(), 'bazaar-chaos-'))

  after(() => rmSync(results, { recursive: true, force: true }))

  it('prints every committed order once at its seller, and gives every user one welcome email, balance and segment', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'chaos/run.ts'], {
      env: { ...process.env, NODE_ENV: 'production', CHAOS_PROFILE: 'short', CHAOS_SECONDS: '30', CHAOS_ORDERS_PER_MINUTE: '240', CHAOS_BASE_PORT: '4300', CHAOS_RESULTS_DIR: results },
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
