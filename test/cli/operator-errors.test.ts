import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib'
import { names } from '../../shared/bus/names.ts'
import { checkContract } from '../../shared/contracts/validate.ts'
import { Management, testEnv, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { runCli, runEach, runJson, type CliResult } from './cli.ts'

const ns = uniqueNamespace('cli errors')
const env = testEnv(ns)
const cli = { namespace: ns }

/** Runs independent invocations side by side, as many at a time as the machine has cores, results in order. */
const runAll = (argLists: string[][]) => runEach(argLists, (args) => runCli(args, cli))

function expectOneLineFailure(result: CliResult, code: number, text: RegExp | string): void {
  expect(result.code, result.stderr).to.equal(code)
  const lines = result.stderr.trim().split('\n')
  expect(lines, result.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^bazaar: /)
  if (typeof text === 'string') expect(lines[0]).to.contain(text)
  else expect(lines[0]).to.match(text)
}

describe('bazaar: failures are one clear line and a non-zero exit', function () {
  this.timeout(60_000)

  it('names an unknown queue', async () => {
    const [show, replay] = await Promise.all([runCli(['dlq', 'show', 'nobody.nothing'], cli), runCli(['dlq', 'replay', 'nobody.nothing', '--all'], cli)])
    expectOneLineFailure(show, 1, `unknown queue nobody.nothing`)
    expectOneLineFailure(replay, 1, 'unknown queue')
  })

  it('names the broker it cannot reach', async () => {
    const closed = { ...cli, env: { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' } }
    const [list, status] = await Promise.all([runCli(['dlq', 'list'], closed), runCli(['status', '--json'], closed)])
    expectOneLineFailure(list, 1, 'cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1')
    expectOneLineFailure(status, 1, 'cannot reach RabbitMQ')
  })

  it('rejects bad arguments with exit code 2', async () => {
    const cases: Array<[string[], string]> = [
      [['dlq', 'replay', 'x'], 'choose the messages to replay'],
      [['dlq', 'replay', 'x', '--all', '--id', 'a'], '--all cannot be combined'],
      [['dlq', 'show', 'x', '--limit', '0'], '--limit must be a positive integer'],
      [['dlq', 'replay', 'x', '--all', '--rate', 'fast'], '--rate must be a positive number'],
      [['dlq', 'lst'], "unknown command 'lst'"],
      [['status', '--verbose'], "unknown option '--verbose'"],
      [['--namespace', 'Not Valid', 'status'], '--namespace must be'],
      [['dlq'], 'missing command'],
      [['maintenance', 'announce', '--message', 'x', '--starts-at', 'tomorrow', '--ends-at', '2030-01-01T00:00:00Z'], '--starts-at must be an ISO 8601'],
      [['maintenance', 'announce', '--message', 'x', '--starts-at', '2030-01-02T00:00:00Z', '--ends-at', '2030-01-01T00:00:00Z'], '--ends-at must be after']
    ]
    // Each invocation is its own process and touches nothing shared: they run side by side (one CLI start is ~1 s of CPU).
    const results = await runAll(cases.map(([args]) => args))
    cases.forEach(([, text], i) => expectOneLineFailure(results[i]!, 2, text))
  })

  it('has --help on every command', async () => {
    const commands = [[], ['status'], ['topology', 'verify'], ['dlq', 'replay'], ['dlq', 'purge'], ['consumer', 'skip'], ['maintenance', 'announce']]
    const results = await runAll(commands.map((args) => [...args, '--help']))
    commands.forEach((args, i) => {
      expect(results[i]!.code, args.join(' ')).to.equal(0)
      expect(results[i]!.stdout, args.join(' ')).to.match(/^Usage: bazaar/)
    })
  })
})

describe('bazaar maintenance: notices published as validated, confirmed events', function () {
  this.timeout(60_000)
  let connection: ChannelModel
  let channel: Channel
  let stateDir: string
  const received: ConsumeMessage[] = []

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'bazaar-state-'))
    connection = await amqp.connect(env.amqpUrl)
    connection.on('error', () => {})
    channel = await connection.createChannel()
    const exchange = names.eventsExchange(ns)
    await channel.assertExchange(exchange, 'topic', { durable: true })
    const { queue } = await channel.assertQueue(`${ns}.probe.maintenance`, { durable: false, exclusive: true })
    await channel.bindQueue(queue, exchange, 'maintenance.*')
    await channel.consume(queue, (m) => m && received.push(m), { noAck: true })
  })

  after(async () => {
    await connection?.close().catch(() => {})
    await new Management().deleteNamespace(ns)
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('announces and cancels a notice (cancel defaults to the last one announced)', async () => {
    const state = { ...cli, env: { XDG_STATE_HOME: stateDir } }
    const notice = await runJson<any>(
      ['maintenance', 'announce', '--message', 'Planned upgrade', '--starts-at', '2030-01-01T02:00:00+01:00', '--ends-at', '2030-01-01T03:00:00Z'],
      state
    )
    expect(notice).to.include({ message: 'Planned upgrade', startsAt: '2030-01-01T01:00:00.000Z', endsAt: '2030-01-01T03:00:00.000Z' })
    const scheduled = await waitFor(() => received.find((m) => m.fields.routingKey === 'maintenance.scheduled'), { what: 'maintenance.scheduled' })
    expect(scheduled.properties).to.include({ appId: 'cli', type: 'maintenance.scheduled', contentType: 'application/json', messageId: notice.messageId })
    const body = JSON.parse(scheduled.content.toString())
    expect(checkContract('maintenance.scheduled', body).ok).to.equal(true)
    expect(body.id).to.equal(notice.id)

    const cancel = await runCli(['maintenance', 'cancel'], state)
    expect(cancel.code, cancel.stderr).to.equal(0)
    expect(cancel.stdout).to.contain(`cancelled maintenance ${notice.id}`)
    const cancelled = await waitFor(() => received.find((m) => m.fields.routingKey === 'maintenance.cancelled'), { what: 'maintenance.cancelled' })
    expect(JSON.parse(cancelled.content.toString()).id).to.equal(notice.id)
    expect(cancelled.properties.appId).to.equal('cli')
  })

  it('fails when no queue is bound, so no client would see the notice', async () => {
    const other = uniqueNamespace('cli nobody')
    try {
      const result = await runCli(
        ['maintenance', 'announce', '--message', 'x', '--starts-at', '2030-01-01T00:00:00Z', '--ends-at', '2030-01-01T01:00:00Z'],
        { namespace: other, env: { XDG_STATE_HOME: stateDir } }
      )
      expectOneLineFailure(result, 1, 'no queue in namespace')
    } finally {
      await new Management().deleteNamespace(other)
    }
  })
})
