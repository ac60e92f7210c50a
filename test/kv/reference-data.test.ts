import { expect } from 'chai'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createOrders } from '../../services/orders/app.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, waitFor, type RunningApp } from '../../shared/testing/index.ts'
import { call } from '../../shared/testing/http.ts'

const ns = uniqueNamespace('kv-reference-data')

/** Within 1 s of an admin's 200, every instance of catalog and orders decides by the new reference data, from memory. */
describe('reference data on every instance', function () {
  this.timeout(60_000)
  const env = testEnv(ns)
  const admin = identity('admin')
  const seller = identity('seller')
  const buyer = identity('buyer')
  let reference: RunningApp
  const catalogs: RunningApp[] = []
  const orders: RunningApp[] = []

  const put = async (path: string, body: unknown) => {
    const response = await call(reference.url, 'PUT', path, { token: admin.token, body })
    expect(response.status, JSON.stringify(response.body)).to.equal(200)
    return response.body
  }
  const product = (app: RunningApp, currency: string) =>
    call(app.url, 'POST', '/products', { token: seller.token, body: { title: 'Kettle', description: '', price: 3_000, currency, stock: 5 } })
  const shipTo = (country: string) => ({ name: 'Bea', line1: '1 Main St', city: 'Town', postalCode: '1000', country })
  const orderTo = (app: RunningApp, country: string) =>
    call(app.url, 'POST', '/orders', { token: buyer.token, body: { items: [{ productId: '00000000-0000-4000-8000-000000000000', quantity: 1 }], shipTo: shipTo(country) } })
  const claim = (app: RunningApp) => call(app.url, 'POST', '/claims', { token: buyer.token, body: { orderId: '00000000-0000-4000-8000-000000000000', reason: 'broken' } })
  /** Within 1 s on every instance: the decision the admin's change calls for. */
  const onEveryInstance = (apps: RunningApp[], probe: (app: RunningApp) => Promise<boolean>, what: string) =>
    Promise.all(apps.map((app, i) => waitFor(() => probe(app), { timeoutMs: 1_000, intervalMs: 20, what: `${what} on instance ${i + 1}` })))

  before(async () => {
    reference = await startApp(createReference(env))
    for (let i = 0; i < 2; i++) catalogs.push(await startApp(createCatalog(env)))
    for (let i = 0; i < 2; i++) orders.push(await startApp(createOrders(env)))
    for (const app of [reference, ...catalogs, ...orders]) {
      await waitFor(async () => (await call(app.url, 'GET', '/health')).status === 200, { timeoutMs: 20_000, what: `${app.app.get('service')} ready` })
    }
  })

  after(async () => {
    for (const app of [...orders, ...catalogs, reference]) await app?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('a currency the admin disables is refused by every catalog instance within 1 s (400 naming currency), and accepted again once enabled', async () => {
    expect((await product(catalogs[0], 'GBP')).status).to.equal(201)
    await put('/currencies/GBP', { name: 'Pound sterling', exponent: 2, enabled: false })
    await onEveryInstance(catalogs, async (app) => {
      const response = await product(app, 'GBP')
      return response.status === 400 && JSON.stringify(response.body.data).includes('currency')
    }, 'GBP refused')
    expect((await product(catalogs[1], 'EUR')).status).to.equal(201)
    expect((await product(catalogs[1], 'JPY')).status).to.equal(400)
    await put('/currencies/GBP', { name: 'Pound sterling', exponent: 2, enabled: true })
    await onEveryInstance(catalogs, async (app) => (await product(app, 'GBP')).status === 201, 'GBP accepted again')
  })

  it('a country the admin disables is refused as shipTo.country by every orders instance within 1 s', async () => {
    const namesShipTo = (body: { data?: unknown }) => JSON.stringify(body.data ?? {}).includes('shipTo.country')
    expect(namesShipTo((await orderTo(orders[0], 'FR')).body)).to.equal(false)
    await put('/countries/FR', { name: 'France', enabled: false, currencies: ['EUR'] })
    await onEveryInstance(orders, async (app) => {
      const response = await orderTo(app, 'FR')
      return response.status === 400 && namesShipTo(response.body)
    }, 'FR refused')
    const unknown = await orderTo(orders[1], 'ZZ')
    expect(unknown.status).to.equal(400)
    expect(namesShipTo(unknown.body)).to.equal(true)
    expect(namesShipTo((await orderTo(orders[1], 'DE')).body)).to.equal(false)
  })

  it('with flag claims off every orders instance answers POST /claims 403 within 1 s; on again, claims are taken', async () => {
    await put('/flags/claims', { enabled: false })
    await onEveryInstance(orders, async (app) => (await claim(app)).status === 403, 'claims refused')
    await put('/flags/claims', { enabled: true })
    // back on: the claim gets as far as its order check (there is no such order)
    await onEveryInstance(orders, async (app) => (await claim(app)).status === 400, 'claims taken again')
  })

  it('the imports flag is in memory on every instance (POST /imports does not exist yet)', async () => {
    await put('/flags/imports', { enabled: false })
    await onEveryInstance([...catalogs, ...orders], async (app) => app.app.get('referenceData')!.isOn('imports') === false, 'imports off')
    await put('/flags/imports', { enabled: true })
    await onEveryInstance([...catalogs, ...orders], async (app) => app.app.get('referenceData')!.isOn('imports'), 'imports on')
  })

  it('the derived store, currencies of enabled countries, follows its sources within the same bound', async () => {
    const derived = (app: RunningApp) => app.app.get('referenceData')!.currenciesOfEnabledCountries
    expect(derived(catalogs[0]).has('GBP')).to.equal(true)
    const version = (await put('/countries/GB', { name: 'United Kingdom', enabled: false, currencies: ['GBP'] })).version
    await onEveryInstance(catalogs, async (app) => !derived(app).has('GBP'), 'GBP gone from the derived store')
    expect(derived(catalogs[1]).has('EUR')).to.equal(true)
    // read-your-writes on the replica the write will reach
    expect(await catalogs[0].app.get('referenceData')!.countries.get('GB', { atLeastVersion: version })).to.include({ enabled: false })
    await put('/countries/GB', { name: 'United Kingdom', enabled: true, currencies: ['GBP'] })
    await onEveryInstance(catalogs, async (app) => derived(app).has('GBP'), 'GBP back in the derived store')
  })

  it('a catalog instance started now bootstraps to the same data and versions as the running ones', async () => {
    const late = await startApp(createCatalog(env))
    catalogs.push(late)
    await waitFor(async () => (await call(late.url, 'GET', '/health')).status === 200, { timeoutMs: 10_000, what: 'late catalog ready' })
    const contents = (app: RunningApp) => JSON.stringify(app.app.get('referenceData')!.replica.contents().entries.sort())
    await catalogs[0].app.get('referenceData')!.replica.caughtUp()
    expect(contents(late)).to.equal(contents(catalogs[0]))
  })
})
