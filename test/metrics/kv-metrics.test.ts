import { expect } from 'chai'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call } from '../../shared/testing/http.ts'
import { histogramCount, scrape, valueOf } from './scrape.ts'

describe('metrics: KV replica lag', function () {
  this.timeout(60_000)
  const ns = uniqueNamespace('metrics-kv')
  const env = testEnv(ns)
  let reference: RunningApp
  let catalog: RunningApp

  before(async () => {
    reference = await startApp(createReference(env))
    catalog = await startApp(createCatalog(env))
    for (const app of [reference, catalog]) {
      await waitFor(async () => (await call(app.url, 'GET', '/health')).status === 200, { timeoutMs: 20_000, what: `${app.app.get('service')} ready` })
    }
  })

  after(async () => {
    for (const app of [catalog, reference]) await app?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it("tells that a service's replica has caught up, and times a live change from its owner to the replica", async () => {
    expect(valueOf(await scrape(catalog.url), 'bazaar_kv_replica_ready', { feed: 'reference' })).to.equal(1)
    const registry = catalog.app.get('metrics').registry
    const before = await histogramCount(registry, 'bazaar_kv_propagation_seconds')
    const response = await call(reference.url, 'PUT', '/currencies/GBP', { token: identity('admin').token, body: { name: 'Pound sterling', exponent: 2, enabled: false } })
    expect(response.status, JSON.stringify(response.body)).to.equal(200)
    await waitFor(async () => (await histogramCount(registry, 'bazaar_kv_propagation_seconds')) > before, { what: 'the change to reach the catalog replica' })
  })
})
