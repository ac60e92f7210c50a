import { expect } from 'chai'
import amqp, { type ChannelModel } from 'amqplib'
import { declareTopology } from '../../shared/bus/topology.ts'
import { names } from '../../shared/bus/names.ts'
import { Management, testEnv, uniqueNamespace } from '../../shared/testing/index.ts'
import { loadDeclarations } from '../../cli/topology/registry.ts'
import { fixtureDeclarations, runCli, runJson } from './cli.ts'

const ns = uniqueNamespace('cli topology')
const env = testEnv(ns)
const cli = { namespace: ns }
const withFixture = ['--declarations', fixtureDeclarations]
const queue = names.queue(ns, 'clitest', 'user-events')
const dlq = names.deadLetterQueue(queue)

describe('bazaar topology: the broker checked against what the code declares', function () {
  this.timeout(60_000)
  let connection: ChannelModel
  const management = new Management()

  before(async () => {
    connection = await amqp.connect(env.amqpUrl)
    connection.on('error', () => {})
  })

  after(async () => {
    await connection?.close().catch(() => {})
    await management.deleteNamespace(ns)
  })

  /** A fresh deployment of the declared topology (whatever an earlier test changed is gone). */
  async function deploy(): Promise<void> {
    await management.deleteNamespace(ns)
    const { topology } = await loadDeclarations(ns, [fixtureDeclarations])
    const channel = await connection.createChannel()
    await declareTopology(channel, topology)
    await channel.close()
  }

  it('shows the declared exchanges, queues with their arguments, and bindings', async () => {
    // The JSON and the human form of the same read: side by side (each CLI start is about a second of CPU).
    const [shown, human] = await Promise.all([runJson<any>([...withFixture, 'topology', 'show'], cli), runCli([...withFixture, 'topology', 'show'], cli)])
    expect(shown.namespace).to.equal(ns)
    expect(shown.exchanges.map((e: any) => e.name)).to.include.members([`${ns}.events`, `${ns}.control`])
    const work = shown.queues.find((q: any) => q.name === queue)
    expect(work.arguments).to.include({ 'x-queue-type': 'quorum', 'x-dead-letter-routing-key': dlq })
    expect(shown.queues.map((q: any) => q.name)).to.include.members([dlq, `${queue}.retry.100ms`])
    expect(shown.bindings).to.deep.include({ exchange: `${ns}.events`, queue, routingKey: 'user.#' })
    expect(human.code).to.equal(0)
    expect(human.stdout).to.contain(queue).and.contain('x-dead-letter-routing-key')
  })

  it('passes on a fresh deployment', async () => {
    await deploy()
    const [result, json] = await Promise.all([runCli([...withFixture, 'topology', 'verify'], cli), runJson<any>([...withFixture, 'topology', 'verify'], cli)])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.contain('matches the broker')
    expect(json).to.include({ ok: true })
    expect(json.differences).to.deep.equal([])
  })

  it('fails naming the queue after it is deleted', async () => {
    await deploy()
    await management.request('DELETE', `/api/queues/%2F/${encodeURIComponent(dlq)}`)
    const result = await runCli([...withFixture, 'topology', 'verify'], cli)
    expect(result.code).to.equal(1)
    expect(result.stdout).to.contain(`MISSING queue ${dlq}`)
    expect(result.stderr.trim().split('\n')).to.have.length(1)
    expect(result.stderr).to.contain(dlq)
  })

  it('fails naming the argument when a queue is declared with other arguments', async () => {
    await deploy()
    await management.request('DELETE', `/api/queues/%2F/${encodeURIComponent(dlq)}`)
    const channel = await connection.createChannel()
    await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 10 } })
    await channel.close()
    const json = await runCli([...withFixture, 'topology', 'verify', '--json'], cli)
    expect(json.code).to.equal(1)
    const report = JSON.parse(json.stdout)
    expect(report.ok).to.equal(false)
    const details = report.differences.map((d: any) => d.detail)
    expect(details).to.include(`queue ${dlq}: argument x-max-length = 10 is not declared`)
    expect(details.some((d: string) => d.startsWith(`queue ${dlq}: argument x-delivery-limit is missing`))).to.equal(true)
  })

  it('fails naming the binding when one is removed', async () => {
    await deploy()
    const channel = await connection.createChannel()
    await channel.unbindQueue(queue, `${ns}.events`, 'user.#')
    await channel.close()
    const result = await runCli([...withFixture, 'topology', 'verify'], cli)
    expect(result.code).to.equal(1)
    expect(result.stdout).to.contain(`binding ${ns}.events -> ${queue} with routing key user.# is missing`)
  })
})
