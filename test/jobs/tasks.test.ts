import { expect } from 'chai'
import type { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { taskConsumer } from '../../shared/bus/tasks.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, type SendEmailTask } from '../../shared/contracts/tasks.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'
import { cleanUp, headerOf, RawBroker, startBus } from '../bus/support.ts'
import { runJson } from '../cli/cli.ts'

/**
 * A task queue (shared/bus/tasks.ts) as notifications' send-email uses it: a failing task is retried by
 * its policy, then dead-lettered with the reason, and `bazaar dlq replay` sends it back once the fault is
 * gone; a task whose payload breaks its contract is dead-lettered at once, its handler never run.
 */
describe('task queues: retries, the dead-letter queue and the CLI\'s replay', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('tasks')
  const queue = names.queue(ns, 'notifications', 'task-send-email')
  const dlq = names.deadLetterQueue(queue)
  let bus: Bus
  let raw: RawBroker
  let smtpDown = true
  const attempts = new Map<string, number>()
  const sent: string[] = []

  const task = (n: number): SendEmailTask => ({
    userId: `seller-${n}`, kind: 'seller-digest', to: `seller-${n}@example.com`, subject: 'Your day', text: 'Two orders', messageId: `<digest-${n}@bazaar>`
  })

  before(async () => {
    raw = await RawBroker.open()
    bus = await startBus(ns, 'notifications')
    taskConsumer(bus, {
      service: 'notifications',
      name: 'send-email',
      retry: { kind: 'delayed', delaysMs: [50, 100] },
      handler: async (message: Envelope<typeof TASK_NOTIFICATIONS_SEND_EMAIL>) => {
        const id = message.payload.messageId
        attempts.set(id, (attempts.get(id) ?? 0) + 1)
        if (smtpDown) throw new Error('smtp: connection refused')
        sent.push(id)
      }
    })
    await bus.startConsumers()
  })

  after(() => cleanUp(ns, bus, raw))

  it('retries a failing task by its policy, dead-letters it with the reason, and sends it once when replayed', async () => {
    await bus.publisher.publish(TASK_NOTIFICATIONS_SEND_EMAIL, task(1))
    const [letter] = await raw.takeExactly(dlq, 1, 15_000)
    expect(attempts.get('<digest-1@bazaar>'), 'attempts before the dead-letter queue').to.equal(3)
    expect(String(headerOf(letter!, Headers.error))).to.contain('smtp: connection refused')
    expect(sent).to.deep.equal([])

    // taken off the queue above: put it back as the broker had it, for the operator's replay
    raw.channel.sendToQueue(dlq, letter!.content, letter!.properties)
    await waitFor(async () => (await raw.channel.checkQueue(dlq)).messageCount === 1, { timeoutMs: 5_000, what: 'the letter back in the dead-letter queue' })
    smtpDown = false
    const summary = await runJson<{ replayed: number }>(['dlq', 'replay', dlq, '--all'], { namespace: ns })
    expect(summary.replayed).to.equal(1)
    await waitFor(() => sent.length === 1, { timeoutMs: 10_000, what: 'the replayed task sent' })
    expect(sent).to.deep.equal(['<digest-1@bazaar>'])
  })

  it('dead-letters a task whose payload breaks its contract, with the failing field, without running the handler', async () => {
    const { to: _dropped, ...withoutTo } = task(2)
    await raw.publishEvent(ns, TASK_NOTIFICATIONS_SEND_EMAIL, JSON.stringify(withoutTo), { contentType: 'application/json' })
    const [letter] = await raw.takeExactly(dlq, 1)
    expect(headerOf(letter!, Headers.errorKind)).to.equal('contract')
    expect(String(headerOf(letter!, Headers.error))).to.contain('to')
    expect(attempts.has('<digest-2@bazaar>')).to.equal(false)
  })
})
