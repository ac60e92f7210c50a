import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { PoisonMessageError } from '../../shared/bus/errors.ts'
import { idempotent } from '../../shared/bus/inbox.ts'
import { names } from '../../shared/bus/names.ts'
import { writeOutbox } from '../../shared/bus/outbox.ts'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { CLAIM_OPENED } from '../../shared/contracts/order.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import type { ServiceApp } from '../../shared/feathers/declarations.ts'
import { Type } from '@feathersjs/typebox'
import { nextEvent, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { cleanUp, RawBroker, registered } from '../bus/support.ts'
import { histogramCount, scrape, valueOf, type Families } from './scrape.ts'

/**
 * A service with one consumer whose handler does what the user's name says: `fail-once` fails its
 * first attempt, `poison` can never succeed; anything else is handled (exactly once, through the inbox).
 */
function probeApp(ns: string): ServiceApp {
  const app = createServiceApp({ service: 'probe', env: testEnv(ns), migrations: [] })
  const failed = new Set<string>()
  const db = app.get('db')
  const schema = app.get('schema')
  app.get('bus').consumer({
    service: 'probe', purpose: 'signups', bindings: [USER_REGISTERED],
    retry: { kind: 'delayed', delaysMs: [50] },
    handlers: {
      [USER_REGISTERED]: idempotent({ db, schema, consumer: 'signups' }, async ({ payload }) => {
        if (payload.name === 'poison') throw new PoisonMessageError('cannot ever work')
        if (payload.name === 'fail-once' && !failed.has(payload.userId)) {
          failed.add(payload.userId)
          throw new Error('first attempt fails')
        }
      })
    }
  })
  // partitioned by claim id: a claim whose reason is `stuck` fails and its key is parked (retried only a minute later)
  app.get('bus').consumer({
    service: 'probe', purpose: 'claims', bindings: [CLAIM_OPENED],
    partitions: { count: 2, parkAfterAttempts: 1, inPlaceDelaysMs: [10], parkRetryDelaysMs: [60_000] },
    handlers: {
      [CLAIM_OPENED]: async ({ payload }) => {
        if (payload.reason === 'stuck') throw new Error('stuck claim')
      }
    }
  })
  app.get('jobs').define('probe-job', { payload: Type.Object({}), handler: async () => {} })
  return app
}

describe('metrics: GET /metrics of a service', () => {
  const ns = uniqueNamespace('metrics_service')
  const queue = names.queue(ns, 'probe', 'signups')
  let probe: RunningApp
  let raw: RawBroker
  const consumed = (families: Families, outcome: string) =>
    valueOf(families, 'bazaar_messages_consumed_total', { queue, routing_key: USER_REGISTERED, outcome })
  const durations = () => histogramCount(probe.app.get('metrics').registry, 'bazaar_handler_duration_seconds', { queue, routing_key: USER_REGISTERED })
  const consumer = () => probe.app.get('bus').consumers[0]!

  before(async () => {
    raw = await RawBroker.open()
    probe = await startApp(probeApp(ns))
  })

  after(() => cleanUp(ns, probe, raw))

  it('answers Prometheus text that a parser of the format reads, every family typed and named bazaar_* or standard', async () => {
    // as runService() does for the one app of a service process
    probe.app.get('metrics').includeProcess()
    const families = await scrape(probe.url)
    const ours = families.filter((f) => f.name.startsWith('bazaar_')).map((f) => f.name)
    expect(ours).to.include.members(['bazaar_outbox_backlog', 'bazaar_outbox_oldest_age_seconds', 'bazaar_parked_keys'])
    for (const family of families) expect(family.type, family.name).to.not.equal('UNTYPED')
    expect(families.map((f) => f.name)).to.include.members(['process_cpu_user_seconds_total', 'nodejs_eventloop_lag_p99_seconds'])
    const others = families.filter((f) => !f.name.startsWith('bazaar_')).map((f) => f.name)
    expect(others.filter((name) => !/^(process|nodejs)_/.test(name))).to.deep.equal([])
    const samples = families.flatMap((f) => f.metrics)
    expect(samples.filter((m) => m.labels && m.labels.service !== 'probe')).to.deep.equal([])
  })

  it('needs no token and refuses anything but GET', async () => {
    expect((await fetch(new URL('/metrics', probe.url))).status).to.equal(200)
    const post = await fetch(new URL('/metrics', probe.url), { method: 'POST' })
    expect(post.status).to.equal(405)
    expect(((await post.json()) as { name: string }).name).to.equal('MethodNotAllowed')
  })

  it('counts a publish, its handling and the handler time', async () => {
    const before = await scrape(probe.url)
    const durationsBefore = await durations()
    const handled = nextEvent(consumer(), 'handled')
    await probe.app.get('bus').publisher.publish(USER_REGISTERED, registered())
    await handled
    const after = await scrape(probe.url)
    const published = (f: Families) => valueOf(f, 'bazaar_messages_published_total', { routing_key: USER_REGISTERED, outcome: 'routed' })
    expect(published(after) - published(before)).to.equal(1)
    expect(consumed(after, 'handled') - consumed(before, 'handled')).to.equal(1)
    expect((await durations()) - durationsBefore).to.equal(1)
  })

  it('counts a retry, then the handling of the retried message', async () => {
    const before = await scrape(probe.url)
    const durationsBefore = await durations()
    const handled = nextEvent(consumer(), 'handled')
    await probe.app.get('bus').publisher.publish(USER_REGISTERED, registered({ name: 'fail-once' }))
    await handled
    const after = await scrape(probe.url)
    expect(consumed(after, 'retried') - consumed(before, 'retried')).to.equal(1)
    expect(consumed(after, 'handled') - consumed(before, 'handled')).to.equal(1)
    // the failed attempt is timed too
    expect((await durations()) - durationsBefore).to.equal(2)
  })

  it('counts dead letters by kind: a handler that cannot succeed, a body that is not JSON', async () => {
    const before = await scrape(probe.url)
    const poisoned = nextEvent(consumer(), 'dead-lettered')
    await probe.app.get('bus').publisher.publish(USER_REGISTERED, registered({ name: 'poison' }))
    await poisoned
    const malformed = nextEvent(consumer(), 'dead-lettered')
    await raw.publishEvent(ns, USER_REGISTERED, '{not json', { contentType: 'application/json' })
    await malformed
    const after = await scrape(probe.url)
    const dead = (f: Families, kind: string) => valueOf(f, 'bazaar_messages_dead_lettered_total', { queue, routing_key: USER_REGISTERED, kind })
    expect(dead(after, 'handler') - dead(before, 'handler')).to.equal(1)
    expect(dead(after, 'malformed') - dead(before, 'malformed')).to.equal(1)
    expect(consumed(after, 'dead_lettered') - consumed(before, 'dead_lettered')).to.equal(2)
    // the dead letters' own publishes, to the dead-letter queue
    const toDlq = (f: Families) => valueOf(f, 'bazaar_messages_published_total', { routing_key: names.deadLetterQueue(queue), outcome: 'routed' })
    expect(toDlq(after) - toDlq(before)).to.equal(2)
  })

  it('counts a duplicate the inbox absorbed', async () => {
    const before = await scrape(probe.url)
    const messageId = randomUUID()
    const body = JSON.stringify(registered())
    const handled: string[] = []
    const listener = (envelope: { id: string }) => void handled.push(envelope.id)
    consumer().on('handled', listener)
    try {
      for (let i = 0; i < 2; i++) await raw.publishEvent(ns, USER_REGISTERED, body, { messageId, contentType: 'application/json' })
      await waitFor(() => handled.filter((id) => id === messageId).length === 2, { what: 'both deliveries' })
    } finally {
      consumer().off('handled', listener)
    }
    const after = await scrape(probe.url)
    const duplicates = (f: Families) => valueOf(f, 'bazaar_inbox_duplicates_total', { consumer: 'signups', routing_key: USER_REGISTERED })
    expect(duplicates(after) - duplicates(before)).to.equal(1)
  })

  it('reads the outbox backlog and the age of its oldest row at scrape, and both fall back to 0 once relayed', async () => {
    const outbox = probe.app.get('outbox')
    await outbox.stop()
    try {
      const db = probe.app.get('db')
      const identity = { namespace: ns, appId: 'probe', schema: probe.app.get('schema') }
      await db.transaction(async (trx) => {
        await writeOutbox(trx, identity, USER_REGISTERED, registered())
        await writeOutbox(trx, identity, USER_REGISTERED, registered())
      })
      await waitFor(async () => valueOf(await scrape(probe.url), 'bazaar_outbox_oldest_age_seconds') > 0, { what: 'the oldest row to age' })
      const held = await scrape(probe.url)
      expect(valueOf(held, 'bazaar_outbox_backlog')).to.equal(2)
    } finally {
      await outbox.start()
    }
    await waitFor(async () => valueOf(await scrape(probe.url), 'bazaar_outbox_backlog') === 0, { what: 'the relay to empty the outbox' })
    expect(valueOf(await scrape(probe.url), 'bazaar_outbox_oldest_age_seconds')).to.equal(0)
  })

  it('counts a key parked and reads the keys parked now at scrape', async () => {
    const claims = names.queue(ns, 'probe', 'claims')
    const before = await scrape(probe.url)
    const claimConsumer = probe.app.get('bus').consumers.find((c) => c.queue === claims)!
    const parked = nextEvent<{ key: string }>(claimConsumer, 'parked')
    const claimId = randomUUID()
    await probe.app.get('bus').publisher.publish(CLAIM_OPENED, { claimId, orderId: randomUUID(), buyerId: randomUUID(), reason: 'stuck', openedAt: new Date().toISOString() })
    expect((await parked).key).to.equal(claimId)
    const after = await scrape(probe.url)
    expect(valueOf(after, 'bazaar_keys_parked_total', { queue: claims }) - valueOf(before, 'bazaar_keys_parked_total', { queue: claims })).to.equal(1)
    expect(valueOf(after, 'bazaar_parked_keys', { queue: claims })).to.equal(1)
  })

  it("times a job's lateness and counts it fired", async () => {
    const registry = probe.app.get('metrics').registry
    const lateBefore = await histogramCount(registry, 'bazaar_job_lateness_seconds', { job: 'probe-job' })
    const fired = nextEvent(probe.app.get('jobs'), 'fired')
    await probe.app.get('jobs').schedule(probe.app.get('db'), 'probe-job', { payload: {} })
    await fired
    expect((await histogramCount(registry, 'bazaar_job_lateness_seconds', { job: 'probe-job' })) - lateBefore).to.equal(1)
    expect(valueOf(await scrape(probe.url), 'bazaar_jobs_total', { job: 'probe-job', outcome: 'fired' })).to.be.at.least(1)
  })
})
