import type { RunningApp } from '../../shared/testing/server.ts'
import { call } from '../../shared/testing/http.ts'
import type { TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'

/**
 * For tests: a product listed by `seller` in the catalog, seen by orders, and ordered once by `buyer`.
 * Returns the order as its buyer got it.
 */
export async function placedOrder(catalog: RunningApp, orders: RunningApp, seller: TestIdentity, buyer: TestIdentity, price = 1_000) {
  const listed = await call(catalog.url, 'POST', '/products', {
    token: seller.token,
    body: { title: `${seller.name}'s goods`, description: '', price, currency: 'EUR', stock: 100 }
  })
  if (listed.status !== 201) throw new Error(`listing a product: ${listed.status} ${JSON.stringify(listed.body)}`)
  const productId = listed.body.id as string
  await waitFor(() => orders.app.get('db').withSchema(orders.app.get('schema')).table('products').where({ productId }).first(), {
    what: `product ${productId} in the orders projection`
  })
  const placed = await call(orders.url, 'POST', '/orders', { token: buyer.token, body: { items: [{ productId, quantity: 1 }] } })
  if (placed.status !== 201) throw new Error(`placing an order: ${placed.status} ${JSON.stringify(placed.body)}`)
  return placed.body as { id: string; total: number; currency: string; createdAt: string }
}

/** For tests: a claim opened by the order's buyer. */
export async function openedClaim(orders: RunningApp, buyer: TestIdentity, orderId: string, reason = 'It arrived broken') {
  const opened = await call(orders.url, 'POST', '/claims', { token: buyer.token, body: { orderId, reason } })
  if (opened.status !== 201) throw new Error(`opening a claim: ${opened.status} ${JSON.stringify(opened.body)}`)
  return opened.body as { id: string; orderId: string; status: string }
}
