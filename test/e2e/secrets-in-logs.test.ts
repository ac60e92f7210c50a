import { expect } from 'chai'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { randomUUID } from 'node:crypto'
import { Management } from '../../shared/testing/broker.ts'
import { dropNamespaceSchemas } from '../../shared/testing/database.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { json } from '../support/identities.ts'

/**
 * Passwords and tokens never reach the logs: the users service and the
 * gateway run as real processes at debug level, and their whole output is
 * searched after a registration, logins, a profile change and an SSE connect.
 */
describe('secrets never reach the logs', function () {
  this.timeout(120_000)
  const namespace = uniqueNamespace('secrets')
  const processes: ChildProcess[] = []
  let output = ''

  async function freePort(): Promise<number> {
    return new Promise((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
  }

  function start(service: string, env: NodeJS.ProcessEnv): void {
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/index.ts`], {
      env: { ...process.env, ...env, NODE_ENV: 'production', LOG_LEVEL: 'debug', BAZAAR_NAMESPACE: namespace },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    processes.push(child)
  }

  after(async () => {
    await Promise.all(processes.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })))
    await new Management().deleteNamespace(namespace)
    await dropNamespaceSchemas(namespace)
  })

  it('logs neither the password nor the access token at any level', async () => {
    const usersPort = await freePort()
    const gatewayPort = await freePort()
    start('users', { USERS_PORT: String(usersPort) })
    start('gateway', { PORT: String(gatewayPort), USERS_URL: `http://127.0.0.1:${usersPort}` })
    const base = `http://127.0.0.1:${gatewayPort}`
    for (const port of [usersPort, gatewayPort]) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, { timeoutMs: 60_000, what: `service on ${port}` })
    }
    const password = `Pw-${randomUUID()}`
    const email = `secret.${randomUUID().slice(0, 6)}@example.com`
    const created = await json(base, 'POST', '/users', { email, password, name: 'Quiet', role: 'seller' })
    expect(created.status).to.equal(201)
    expect(JSON.stringify(created.body)).not.to.include(password)
    const wrong = await json(base, 'POST', '/authentication', { strategy: 'local', email, password: `${password}-wrong` })
    expect(wrong.status).to.equal(401)
    const auth = await json(base, 'POST', '/authentication', { strategy: 'local', email, password })
    expect(auth.status).to.equal(201)
    const token: string = auth.body.accessToken
    expect(JSON.stringify(auth.body.user)).not.to.include(password)
    await json(base, 'PATCH', `/users/${created.body.id}`, { name: 'Quieter' }, token)
    const appliance = await json(base, 'POST', '/appliances', { name: 'printer' }, token)
    expect(appliance.status).to.equal(201)
    const stream = await fetch(`${base}/events?token=${encodeURIComponent(appliance.body.token)}`)
    expect(stream.status).to.equal(200)
    await stream.body?.cancel()
    const userStream = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${token}` } })
    await userStream.body?.cancel()

    // The processes did log (so the search means something), and none of it holds a secret.
    await waitFor(() => output.includes('"level":20') || output.includes('"level":30'), { what: 'log lines' })
    expect(output).not.to.include(password)
    expect(output).not.to.include(token)
    expect(output).not.to.include(token.split('.')[2]!)
    expect(output).not.to.include(appliance.body.token)
  })
})
