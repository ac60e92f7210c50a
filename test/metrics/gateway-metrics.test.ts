import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { MAINTENANCE_SCHEDULED } from '../../shared/contracts/index.ts'
import { identity, waitFor } from '../../shared/testing/index.ts'
import { gatewayFixture } from '../../services/gateway/test/support.ts'
import { scrape, valueOf, type Families } from './scrape.ts'

describe('metrics: the gateway’s /metrics covers its streams', () => {
  const gateway = gatewayFixture('metrics-gateway')
  const pushed = (f: Families, kind: string) => valueOf(f, 'bazaar_sse_events_pushed_total', { kind })
  const open = (f: Families) => valueOf(f, 'bazaar_sse_streams_open', { service: 'gateway' })

  it('is the gateway’s own, on its port, without a token', async () => {
    const families = await scrape(gateway.running.url)
    const services = new Set(families.flatMap((f) => f.metrics.map((m) => m.labels?.service)).filter(Boolean))
    expect([...services]).to.deep.equal(['gateway'])
    expect(families.map((f) => f.name)).to.include.members(['bazaar_sse_streams_open', 'bazaar_outbox_backlog'])
  })

  it('counts the streams open and the events pushed to them by SSE event name', async () => {
    const before = await scrape(gateway.running.url)
    const first = await gateway.open(identity('buyer').token)
    const second = await gateway.open(identity('seller').token)
    const during = await scrape(gateway.running.url)
    expect(open(during) - open(before)).to.equal(2)

    const notice = { id: randomUUID(), message: 'Broker restart', startsAt: new Date(Date.now() + 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() }
    await gateway.bus.publisher.publish(MAINTENANCE_SCHEDULED, notice)
    await waitFor(() => first.of('maintenance').length === 1 && second.of('maintenance').length === 1, { what: 'the notice on both streams' })
    const after = await scrape(gateway.running.url)
    // one event, two streams: two pushes
    expect(pushed(after, 'maintenance') - pushed(before, 'maintenance')).to.equal(2)

    first.close()
    second.close()
    await waitFor(async () => open(await scrape(gateway.running.url)) === open(before), { what: 'the closed streams to be gone' })
  })
})
