import { expect } from 'chai'
import { randomUUID } from 'node:crypto'
import { chromium, type Browser } from 'playwright-core'
import type { Bus } from '../../../shared/bus/bus.ts'
import { ORDER_CREATED } from '../../../shared/contracts/index.ts'
import { dropNamespaceSchemas, identity, Management, startApp, testEnv, uniqueNamespace, type RunningApp } from '../../../shared/testing/index.ts'
import { createApp } from '../app.ts'
import { anOrder, call, producer, registerAppliance } from './support.ts'

describe('gateway: the warehouse display page, in a real browser', function () {
  const ns = uniqueNamespace('gateway-warehouse')
  const env = testEnv(ns)
  let running: RunningApp
  let bus: Bus
  let browser: Browser

  before(async () => {
    running = await startApp(createApp(env))
    bus = await producer(env)
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
  })

  after(async () => {
    await browser?.close()
    await bus?.stop()
    await running?.stop()
    await new Management().deleteNamespace(ns)
    await dropNamespaceSchemas(ns)
  })

  it('shows an order as it is placed, and the maintenance banner as it is announced', async () => {
    const seller = identity('seller')
    const appliance = await registerAppliance(running.url, seller.token, 'Wall display')
    const page = await browser.newPage()
    try {
      await page.goto(`${running.url}/warehouse?token=${encodeURIComponent(appliance.token)}`)
      await page.locator('#status.live').waitFor({ timeout: 10_000 })

      const order = anOrder(seller.id, identity('buyer').id, {
        items: [{ productId: randomUUID(), sellerId: seller.id, title: '<b>Walnut</b> desk', unitPrice: 25_000, quantity: 1 }],
        total: 25_000
      })
      await bus.publisher.publish(ORDER_CREATED, order)
      const card = page.locator(`[data-order-id="${order.orderId}"]`)
      await card.waitFor({ timeout: 10_000 })
      expect(await card.textContent()).to.contain('1 × <b>Walnut</b> desk') // shown as text, never as markup

      const notice = await call(running.url, 'POST', '/maintenance-notices', identity('admin').token, {
        message: 'Printers offline 02:00-02:30',
        startsAt: new Date(Date.now() + 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString()
      })
      expect(notice.status).to.equal(201)
      const banner = page.locator(`#maintenance-${notice.body.id}`)
      await banner.waitFor({ timeout: 10_000 })
      expect(await banner.textContent()).to.contain('Printers offline 02:00-02:30')
    } finally {
      await page.close()
    }
  })
})
