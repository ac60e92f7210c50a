import { expect } from 'chai'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call } from '../../shared/testing/http.ts'

const ns = uniqueNamespace('kv-readiness')

/** A consumer service of the reference data, on a real broker: never ready before its replica has caught up. */
describe('kv readiness of a consumer service', function () {
  this.timeout(30_000)
  const env = testEnv(ns)
  const apps = new TestApps(ns)

  after(async () => {
    await apps.close()
  })

  it('a catalog instance answers 503 on /health until its stores have caught up, then 200 with the data in memory', async () => {
    // no owner yet: no snapshot to bootstrap from, so the replica cannot have caught up
    const catalog: RunningApp = await apps.start(createCatalog(env))
    const waiting = await call(catalog.url, 'GET', '/health')
    expect(waiting.status).to.equal(503)
    expect(JSON.stringify(waiting.body)).to.contain('reference kv stores')
    expect(catalog.app.get('referenceData')!.replica.ready).to.equal(false)

    // the owner's first start seeds the stores and writes the first snapshot: the catalog catches up from the broker alone
    await apps.start(createReference(env))
    await waitFor(async () => (await call(catalog.url, 'GET', '/health')).status === 200, { timeoutMs: 20_000, intervalMs: 20, what: 'catalog ready once the reference data arrived' })
    // On a first deployment the owner's first snapshot can be taken before its seed reaches the stream, so
    // "caught up" may come a moment before the seed itself: the seed must follow within the contract's 1 s.
    await waitFor(() => catalog.app.get('referenceData')!.currencies.has('EUR'), { timeoutMs: 1_000, intervalMs: 10, what: 'the seeded data in memory within 1 s of ready' })
  })
})
