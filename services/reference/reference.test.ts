import { expect } from 'chai'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call as callApi, type JsonRequest } from '../../shared/testing/http.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { createApp } from './app.ts'

const ns = uniqueNamespace('reference')

describe('reference: countries, currencies and flags', function () {
  this.timeout(30_000)
  let running: RunningApp
  let tap: EventTap
  const admin = identity('admin')
  const seller = identity('seller')
  const call = (method: string, path: string, request?: JsonRequest) => callApi(running.url, method, path, request)

  before(async () => {
    tap = await EventTap.open(ns, ['country.changed', 'currency.changed', 'flag.changed'])
    running = await startApp(createApp(testEnv(ns)))
  })

  after(async () => {
    await tap?.close()
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('a first start seeds five countries, three currencies and the claims and imports flags, all enabled, for anyone to read', async () => {
    const countries = await call('GET', '/countries')
    expect(countries.status).to.equal(200)
    expect(countries.body.map((c: { code: string }) => c.code)).to.deep.equal(['DE', 'FR', 'GB', 'NL', 'US'])
    expect(countries.body[0]).to.deep.equal({ code: 'DE', name: 'Germany', enabled: true, currencies: ['EUR'], version: 1 })
    const currencies = await call('GET', '/currencies')
    expect(currencies.body.map((c: { code: string; enabled: boolean }) => [c.code, c.enabled])).to.deep.equal([['EUR', true], ['GBP', true], ['USD', true]])
    expect(currencies.body[0]).to.include({ exponent: 2 })
    const flags = await call('GET', '/flags')
    expect(flags.body).to.deep.equal([{ name: 'claims', enabled: true, version: 1 }, { name: 'imports', enabled: true, version: 1 }])
  })

  it('/health is ready once its own replica has caught up with the stream', async () => {
    await waitFor(async () => (await call('GET', '/health')).status === 200, { timeoutMs: 10_000, what: 'reference ready' })
    const data = running.app.get('referenceData')!
    await waitFor(() => data.flags.has('imports'), { timeoutMs: 5_000, what: 'the seed in its replica' })
    expect(data.countries.get('DE')).to.include({ name: 'Germany' })
    expect(data.isOn('imports')).to.equal(true)
  })

  it('an admin upserts a whole entry: 200 with the next version, and one change event carries it', async () => {
    const put = await call('PUT', '/countries/BE', { token: admin.token, body: { name: 'Belgium', enabled: true, currencies: ['EUR'] } })
    expect(put.status, JSON.stringify(put.body)).to.equal(200)
    expect(put.body).to.deep.equal({ code: 'BE', name: 'Belgium', enabled: true, currencies: ['EUR'], version: 1 })
    const again = await call('PUT', '/countries/BE', { token: admin.token, body: { code: 'BE', name: 'Belgium', enabled: false, currencies: ['EUR'] } })
    expect(again.body).to.include({ enabled: false, version: 2 })
    const [event] = await tap.next((e) => e.routingKey === 'country.changed' && e.payload.key === 'BE' && e.payload.version === 2, { what: 'country.changed BE v2' })
    expect(event!.payload.value).to.deep.equal({ code: 'BE', name: 'Belgium', enabled: false, currencies: ['EUR'] })
  })

  it('a deletion answers the entry as it was and leaves a tombstone: the next write of the key continues its versions', async () => {
    await call('PUT', '/currencies/CHF', { token: admin.token, body: { name: 'Swiss franc', exponent: 2, enabled: true } })
    const removed = await call('DELETE', '/currencies/CHF', { token: admin.token })
    expect(removed.status).to.equal(200)
    expect(removed.body).to.include({ code: 'CHF', version: 2 })
    const [event] = await tap.next((e) => e.routingKey === 'currency.changed' && e.payload.key === 'CHF' && e.payload.version === 2, { what: 'tombstone' })
    expect(event!.payload.value).to.equal(null)
    expect((await call('GET', '/currencies/CHF')).status).to.equal(404)
    expect((await call('DELETE', '/currencies/CHF', { token: admin.token })).status).to.equal(404)
    const back = await call('PUT', '/currencies/CHF', { token: admin.token, body: { name: 'Swiss franc', exponent: 2, enabled: true } })
    expect(back.body.version).to.equal(3)
  })

  it('refuses malformed codes and bodies with 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/countries/DEU', { name: 'x', enabled: true, currencies: [] }, 'code'],
      ['PUT', '/countries/de', { name: 'x', enabled: true, currencies: [] }, 'code'],
      ['PUT', '/currencies/EU', { name: 'x', exponent: 2, enabled: true }, 'code'],
      ['PUT', '/flags/Claims', { enabled: true }, 'name'],
      ['DELETE', '/countries/1', undefined, 'code']
    ]
    for (const [method, path, body, field] of cases) {
      const response = await call(method, path, { token: admin.token, body })
      expect(response.status, `${method} ${path}`).to.equal(400)
      expect(JSON.stringify(response.body), `${method} ${path}`).to.contain(field)
    }
    const badBody = await call('PUT', '/currencies/JPY', { token: admin.token, body: { name: 'Yen', exponent: 9, enabled: true } })
    expect(badBody.status).to.equal(400)
    expect(JSON.stringify(badBody.body)).to.contain('exponent')
    const otherKey = await call('PUT', '/countries/AT', { token: admin.token, body: { code: 'DE', name: 'Austria', enabled: true, currencies: ['EUR'] } })
    expect(otherKey.status).to.equal(400)
    const notIso = await call('PUT', '/countries/AT', { token: admin.token, body: { name: 'Austria', enabled: true, currencies: ['euro'] } })
    expect(notIso.status).to.equal(400)
  })

  it('only admins write: 401 without a token, 403 for a seller', async () => {
    expect((await call('PUT', '/flags/claims', { body: { enabled: false } })).status).to.equal(401)
    expect((await call('PUT', '/flags/claims', { token: seller.token, body: { enabled: false } })).status).to.equal(403)
    expect((await call('DELETE', '/countries/DE', { token: seller.token })).status).to.equal(403)
    expect((await call('GET', '/flags')).body.find((f: { name: string }) => f.name === 'claims').enabled).to.equal(true)
  })
})
