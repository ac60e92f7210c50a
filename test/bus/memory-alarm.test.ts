import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Bus } from '../../shared/bus/bus.ts'
import { names } from '../../shared/bus/names.ts'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { Management, nextEvent, uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, RawBroker, registered, startBus } from './support.ts'

const run = promisify(execFile)
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 30_000 }).then((r) => r.stdout.trim())

/**
 * The broker's memory alarm on the machine's own broker: while it lasts, RabbitMQ blocks every publishing
 * connection (`connection.blocked`). Publishes made then must wait, neither fail nor get lost, and go
 * out once the alarm clears, however long it lasted against the confirm timeout.
 */
describe('publishing through a broker memory alarm', function () {
  this.timeout(90_000)
  const ns = uniqueNamespace('memory-alarm')
  let bus: Bus
  let raw: RawBroker
  let tap: string
  let watermark: string | undefined

  before(async function () {
    // The alarm is set with rabbitmqctl on the broker's machine; without it (a remote broker) nothing here can run.
    watermark = await rabbitmqctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().').catch(() => undefined)
    if (watermark === undefined) this.skip()
    raw = await RawBroker.open()
    // A confirm timeout well below the alarm's length: a publish must not time out for the broker's wait.
    bus = await startBus(ns, 'users', { confirmTimeoutMs: 1_500 })
    tap = (await raw.channel.assertQueue('', { exclusive: true })).queue
    await raw.channel.bindQueue(tap, names.eventsExchange(ns), 'user.#')
  })

  after(async () => {
    await restoreWatermark()
    await cleanUp(ns, bus, raw)
  })

  async function restoreWatermark(): Promise<void> {
    if (watermark === undefined) return
    const absolute = /^\{absolute,\s*(\d+)\}$/.exec(watermark)
    await (absolute ? rabbitmqctl('set_vm_memory_high_watermark', 'absolute', absolute[1]!) : rabbitmqctl('set_vm_memory_high_watermark', watermark))
  }

  it('publishes made while the broker is blocked wait, then are all confirmed and delivered once it unblocks', async () => {
    // Listened for first: the broker may announce the block as soon as the alarm is raised.
    const blocked = nextEvent(bus.connection, 'blocked', { timeoutMs: 20_000 })
    await rabbitmqctl('set_vm_memory_high_watermark', '0.0000001')
    await waitFor(async () => (await new Management().request<Array<{ mem_alarm: boolean }>>('GET', '/api/nodes')).some((n) => n.mem_alarm),
      { timeoutMs: 20_000, what: 'the memory alarm to be raised' })
    const users = Array.from({ length: 200 }, () => registered())
    const settled: string[] = []
    const publishes = users.map((user) =>
      bus.publisher.publish(USER_REGISTERED, user).then(
        () => settled.push('confirmed'),
        (err: Error) => settled.push(`failed: ${err.message}`)
      )
    )
    await blocked
    const blockedFor = Date.now()
    await waitFor(() => Date.now() - blockedFor > 2_000 || settled.length > 0, { timeoutMs: 5_000, what: 'the confirm timeout to pass' })
    expect(settled, 'nothing settles while the broker is blocked').to.deep.equal([])

    const unblocked = nextEvent(bus.connection, 'unblocked', { timeoutMs: 20_000 })
    await restoreWatermark()
    await unblocked
    await Promise.all(publishes)
    expect(settled.filter((s) => s !== 'confirmed'), 'publishes that failed').to.deep.equal([])
    const delivered = await raw.takeExactly(tap, users.length)
    const ids = delivered.map((m) => JSON.parse(m.content.toString()).userId as string)
    expect(new Set(ids).size).to.equal(users.length)
    expect(ids.sort()).to.deep.equal(users.map((u) => u.userId).sort())
  })
})
