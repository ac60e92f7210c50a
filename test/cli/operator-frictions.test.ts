import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { Management, uniqueNamespace } from '../../shared/testing/index.ts'
import { runCli } from './cli.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/bazaar.js', import.meta.url))
const ns = uniqueNamespace('cli frictions')

/** `bazaar <args> | head -1` in a shell, as an operator types it: bazaar's own exit code (PIPESTATUS), what head let through and bazaar's stderr. */
function pipedIntoHead(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = `"${process.execPath}" "${bin}" ${args.join(' ')} 2>"$ERR" | head -1; code=\${PIPESTATUS[0]}; cat "$ERR" >&2; exit $code`
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `ERR=$(mktemp); trap 'rm -f "$ERR"' EXIT; ${command}`], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', BAZAAR_NAMESPACE: ns },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

describe('bazaar: small operator frictions', function () {
  this.timeout(60_000)

  after(async () => {
    await new Management().deleteNamespace(ns)
  })

  it('`bazaar topology show | head -1` ends quietly: exit 0, no EPIPE stack trace', async () => {
    // Several runs: whether the pipe is already closed at a given write depends on timing.
    for (let run = 0; run < 3; run++) {
      const result = await pipedIntoHead(['topology', 'show'])
      expect(result.stdout.split('\n').filter(Boolean), result.stdout).to.have.length(1)
      expect(result.stderr, 'stderr').to.not.match(/EPIPE|Error|\n\s+at /)
      expect(result.code, result.stderr).to.equal(0)
    }
  })

  it('`bazaar status` exits non-zero, in one line naming it, when PostgreSQL cannot be reached', async () => {
    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/bazaar' }
    for (const args of [['status'], ['status', '--json']]) {
      const result = await runCli(args, { namespace: ns, env })
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(1)
      const lines = result.stderr.trim().split('\n')
      expect(lines, result.stderr).to.have.length(1)
      expect(lines[0]).to.match(/^bazaar: outbox backlog unknown: cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/bazaar/)
      if (args.includes('--json')) expect(JSON.parse(result.stdout).outboxError).to.match(/cannot reach PostgreSQL/)
      else expect(result.stdout).to.match(/Queues in namespace/)
    }
  })
})
