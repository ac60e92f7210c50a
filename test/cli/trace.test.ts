import { expect } from 'chai'
import { schemaName } from '../../shared/db/database.ts'
import { TASK_NOTIFICATIONS_SEND_EMAIL, USER_REGISTERED } from '../../shared/contracts/index.ts'
import type { RequestTrace, TracedEvent } from '../../shared/ops/request-trace.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createBenefits } from '../../services/benefits/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createSegments } from '../../services/segments/app.ts'
import { createApp as createUsers } from '../../services/users/app.ts'
import { RawBroker } from '../bus/support.ts'
import { Tap, clientTraceparent, probeApp, register } from '../tracing/support.ts'
import { runCli, runEach, runJson } from './cli.ts'

/**
 * `bazaar trace` on a real registration: the welcome email (notifications), the points (benefits, made to
 * fail until dead-lettered, then handled when the event comes again), the segment (segments) and the email
 * task the probe derives, with the consumers' outcomes, one event under the other.
 */
describe('bazaar trace <request-id>: what a request caused, as a tree', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('cli_trace')
  const env = testEnv(ns)
  const apps = new TestApps(ns)
  const fastRetries = { retryDelaysMs: [50, 100] }
  const cli = { namespace: ns }
  const client = clientTraceparent()
  let smtp: TestSmtpServer
  let benefits: RunningApp
  let raw: RawBroker
  let tap: Tap
  let requestId: string
  let json: RequestTrace & { namespace: string }
  let tree: string
  let unknown: Awaited<ReturnType<typeof runCli>>

  const outcomesOf = async (service: string, outcome: string) =>
    (await benefits.app.get('db').withSchema(schemaName(ns, service)).from('message_outcomes').where({ outcome })).length

  before(async () => {
    smtp = await startSmtpServer()
    let users: RunningApp | undefined
    ;[users, , benefits] = await apps.startAll([
      createUsers(env), createNotifications({ ...env, smtpUrl: smtp.url }, fastRetries), createBenefits(env, fastRetries), createSegments(env, fastRetries), probeApp(env)
    ])
    raw = await RawBroker.open()
    tap = await Tap.open(ns, [USER_REGISTERED])
    // the bug switch: benefits' database refuses every new balance, so its handler fails, is retried, then dead-lettered
    const balances = benefits.app.get('db')
    await balances.raw('alter table balances add constraint bug_switch check (points < 0) not valid')
    const user = await register(users!.url, { traceparent: client.traceparent })
    requestId = user.requestId
    await waitFor(() => smtp.to(user.email).length === 2, { what: 'the welcome email and the probe\'s' })
    await waitFor(async () => (await outcomesOf('benefits', 'dead-lettered')) === 1, { what: 'the dead letter of the points' })
    // fixed, and the same event comes again (a redelivery): benefits handles it, the others skip it as a duplicate
    await balances.raw('alter table balances drop constraint bug_switch')
    const [event] = await tap.take(1)
    await raw.publishEvent(ns, USER_REGISTERED, event!.content, event!.properties)
    await waitFor(async () => (await Promise.all(['notifications', 'segments', 'probe'].map((s) => outcomesOf(s, 'duplicate')))).every((n) => n === 1), { what: 'the duplicates' })
    await waitFor(async () => (await balances.table('balances').where({ userId: user.id })).length === 1, { what: 'the points, at last' })
    ;[json, tree, unknown] = await runEach([0, 1, 2], async (i) => {
      if (i === 0) return runJson(['trace', requestId, '--service', 'probe'], cli)
      if (i === 1) return (await runCli(['trace', requestId, '--service', 'probe'], cli)).stdout
      return runCli(['trace', 'no-such-request'], cli)
    }) as [typeof json, string, typeof unknown]
  })

  after(async () => {
    await tap?.close()
    await raw?.close()
    await apps.close()
    await smtp?.close()
  })

  const root = () => json.events[0]!
  const outcomes = (event: TracedEvent) => event.outcomes.map((o) => `${o.service}/${o.consumer} ${o.outcome}${o.attempt ? ` ${o.attempt}` : ''}`)

  it('--json: the registration is the root event, in the trace the client sent, with every service involved', () => {
    expect(json.requestId).to.equal(requestId)
    expect(json.traceIds).to.deep.equal([client.traceId])
    expect(json.events).to.have.length(1)
    expect(root()).to.include({ routingKey: USER_REGISTERED, service: 'users' })
    expect(json.eventCount).to.equal(2)
    expect(json.services).to.deep.equal(['benefits', 'notifications', 'probe', 'segments', 'users'])
  })

  it('lists each consumer\'s outcomes: handled, retried, dead-lettered, skipped as duplicate', () => {
    const seen = outcomes(root())
    expect(seen).to.include.members([
      'notifications/user-events handled',
      'segments/user-registrations handled',
      'probe/signups handled',
      'benefits/user-registrations handled',
      'benefits/user-registrations retried 1',
      'benefits/user-registrations retried 2',
      'benefits/user-registrations dead-lettered 3',
      'notifications/user-events duplicate',
      'segments/user-registrations duplicate',
      'probe/signups duplicate'
    ])
    const deadLetter = root().outcomes.find((o) => o.outcome === 'dead-lettered')!
    expect(deadLetter.error).to.match(/^handler: .*bug_switch/)
    // in time order: the dead letter comes before the handling that followed the fix
    const order = seen.filter((o) => o.startsWith('benefits/'))
    expect(order.indexOf('benefits/user-registrations dead-lettered 3')).to.be.lessThan(order.indexOf('benefits/user-registrations handled'))
  })

  it('the event a consumer derived hangs under its cause, with its own consumer and timings', () => {
    const [task] = root().caused
    expect(task).to.include({ routingKey: TASK_NOTIFICATIONS_SEND_EMAIL, service: 'probe', causationId: root().messageId })
    expect(outcomes(task!)).to.deep.equal(['notifications/task-send-email handled'])
    expect(Date.parse(task!.writtenAt)).to.be.at.least(Date.parse(root().relayedAt!))
    expect(task!.traceparent!.slice(3, 35)).to.equal(client.traceId)
  })

  it('the terminal shows the same as a tree', () => {
    const lines = tree.trimEnd().split('\n')
    expect(lines[0]).to.equal(`request ${requestId}  trace ${client.traceId}`)
    expect(lines[1]).to.match(/^2 events, services benefits, notifications, probe, segments, users, \d+ ms from /)
    expect(lines[2]).to.match(new RegExp(`^└─ ${USER_REGISTERED}  by users  written \\+0 ms, relayed \\+\\d+ ms  \\[`))
    expect(tree).to.match(/\n   [├└]─ benefits\/\S+ {2}dead-lettered \(attempt 3\) {2}\+\d+ ms: handler: /)
    expect(tree).to.match(/\n   [├└]─ notifications\/user-events {2}skipped as duplicate {2}\+\d+ ms/)
    expect(tree).to.match(new RegExp(`\\n   └─ ${TASK_NOTIFICATIONS_SEND_EMAIL.replace(/\./g, '\\.')}  by probe  written \\+\\d+ ms, relayed \\+\\d+ ms`))
    expect(tree).to.match(/\n      └─ notifications\/task-send-email {2}handled {2}\+\d+ ms\n?$/)
  })

  it('an unknown request id is one line on stderr and exit 1', () => {
    expect(unknown.code).to.equal(1)
    expect(unknown.stdout).to.equal('')
    expect(unknown.stderr).to.equal(`bazaar: no events recorded for request no-such-request in namespace ${ns} (unknown id, no event caused, or past the 7-day retention)\n`)
  })
})
