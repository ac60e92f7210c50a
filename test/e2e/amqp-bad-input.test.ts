import { expect } from 'chai'
import amqp from 'amqplib'
import { randomUUID } from 'node:crypto'
import { readEnv } from '../../shared/config/env.ts'
import { Headers } from '../../shared/bus/headers.ts'
import { names } from '../../shared/bus/names.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { json, login } from '../support/identities.ts'

/**
 * Messages from outside the services, published straight to `<ns>.events`:
 * each bad one ends in a dead-letter queue with its reason (or is reported
 * unroutable), and the consumers keep processing good ones.
 */
describe('AMQP bad input from outside the services', function () {
  this.timeout(120_000)
  const namespace = uniqueNamespace('amqpbad')
  const adminEmail = `admin.${namespace}@example.com`
  const adminPassword = `admin-${randomUUID()}`
  let stack: Stack
  let connection: amqp.ChannelModel
  let channel: amqp.ConfirmChannel
  const exchange = names.eventsExchange(namespace)
  const registrationQueues = ['notifications.user-events', 'benefits.user-registrations', 'segments.user-registrations']

  before(async () => {
    stack = await startStack(namespace, { adminEmail, adminPassword })
    connection = await amqp.connect(readEnv().amqpUrl)
    channel = await connection.createConfirmChannel()
  })

  after(async () => {
    await connection?.close().catch(() => {})
    await stack?.stop()
  })

  function publish(routingKey: string, body: Buffer, properties: amqp.Options.Publish = {}) {
    const messageId = randomUUID()
    return new Promise<string>((resolve, reject) =>
      channel.publish(exchange, routingKey, body, { persistent: true, contentType: 'application/json', messageId, type: routingKey, ...properties }, (err) =>
        err ? reject(err) : resolve(messageId)
      )
    )
  }

  /** Reads (and removes) every message of a dead-letter queue. */
  async function drainDeadLetters(queue: string): Promise<amqp.GetMessage[]> {
    const read: amqp.GetMessage[] = []
    for (;;) {
      const message = await channel.get(names.deadLetterQueue(`${namespace}.${queue}`), { noAck: true })
      if (!message) return read
      read.push(message)
    }
  }

  const registered = (overrides: Record<string, unknown> = {}) => ({
    userId: randomUUID(),
    email: `outside.${randomUUID().slice(0, 6)}@example.com`,
    name: 'Outsider',
    role: 'buyer',
    registeredAt: new Date().toISOString(),
    ...overrides
  })

  it('dead-letters non-JSON, contract-invalid, unstorable (NUL), oversized and wrong-content-type messages with their reasons, then processes a good one', async () => {
    const bad = {
      notJson: await publish('user.registered', Buffer.from('{this is not json')),
      invalid: await publish('user.registered', Buffer.from(JSON.stringify(registered({ role: 'pirate', email: 'nope' })))),
      unstorable: await publish('user.registered', Buffer.from(JSON.stringify(registered({ name: 'nul\u0000byte' })))),
      oversized: await publish('user.registered', Buffer.from(JSON.stringify(registered({ name: 'x'.repeat(2 * 1024 * 1024) })))),
      wrongType: await publish('user.registered', Buffer.from(JSON.stringify(registered())), { contentType: 'text/plain' })
    }
    const expectedReason: Record<keyof typeof bad, RegExp> = {
      notJson: /not JSON/i,
      invalid: /does not match user\.registered/i,
      unstorable: /does not match user\.registered: \/name must not contain a NUL/,
      oversized: /exceeds/i,
      wrongType: /content type text\/plain/i
    }
    for (const queue of registrationQueues) {
      const letters = new Map<string, amqp.GetMessage>()
      await waitFor(async () => {
        for (const letter of await drainDeadLetters(queue)) letters.set(String(letter.properties.messageId), letter)
        return letters.size >= Object.keys(bad).length
      }, { timeoutMs: 20_000, what: `${Object.keys(bad).length} dead letters in ${queue}.dlq` })
      for (const [kind, id] of Object.entries(bad) as Array<[keyof typeof bad, string]>) {
        const letter = letters.get(id)
        expect(letter, `${kind} in ${queue}.dlq`).to.exist
        const headers = letter!.properties.headers ?? {}
        expect(String(headers[Headers.error]), `${kind} reason`).to.match(expectedReason[kind])
        expect(headers[Headers.originalQueue]).to.equal(`${namespace}.${queue}`)
        expect(headers[Headers.originalRoutingKey]).to.equal('user.registered')
        expect(headers[Headers.attempts], 'no retries for bad input').to.equal(0)
      }
      expect(letters.size, `nothing else in ${queue}.dlq`).to.equal(Object.keys(bad).length)
    }

    // The consumers carry on: a good event from outside opens a balance and a segment.
    const good = registered()
    await publish('user.registered', Buffer.from(JSON.stringify(good)))
    const admin = await login(stack.base, adminEmail, adminPassword)
    const balance = await waitFor(async () => {
      const answer = await json(stack.base, 'GET', `/balances/${good.userId}`, undefined, admin)
      return answer.status === 200 ? answer.body : undefined
    }, { timeoutMs: 15_000, what: 'the balance of the good registration' })
    expect(balance.userId).to.equal(good.userId)
    await waitFor(async () => (await json(stack.base, 'GET', `/segments/${good.userId}`, undefined, admin)).status === 200, {
      timeoutMs: 15_000, what: 'the segment of the good registration'
    })
  })

  it('dead-letters an unknown routing key that matches a binding, and reports one that matches none as unroutable', async () => {
    const unknownUserEvent = await publish('user.deleted', Buffer.from(JSON.stringify({ userId: randomUUID() })))
    const letter = await waitFor(async () => {
      const letters = await drainDeadLetters('notifications.user-events')
      return letters.find((l) => l.properties.messageId === unknownUserEvent)
    }, { timeoutMs: 15_000, what: 'user.deleted in notifications.user-events.dlq' })
    expect(String(letter.properties.headers?.[Headers.error])).to.match(/user\.deleted/)

    const returned = new Promise<amqp.Message>((resolve) => channel.once('return', resolve))
    channel.publish(exchange, 'nobody.listens', Buffer.from('{}'), { mandatory: true, contentType: 'application/json', messageId: randomUUID() })
    const message = await Promise.race([returned, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no basic.return within 5 s')), 5_000))])
    expect(message.fields.routingKey).to.equal('nobody.listens')
  })

  it('keeps every service healthy', async () => {
    for (const [name, running] of stack.apps) {
      expect((await fetch(`${running.url}/health`)).status, name).to.equal(200)
    }
  })
})
