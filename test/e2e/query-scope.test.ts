import { expect } from 'chai'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { listen, opened, type Listener } from '../../services/gateway/test/support.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { json, register, type Actor } from '../support/identities.ts'

/**
 * Queries through the public origin act on what the caller may see:
 * `$select` never changes who may read what, sellers' filters and sorts on
 * `total` are on their own subtotal, `$limit`/`$skip` are bounded; the
 * storefront's product listing; chat rooms of real users only; one buyer
 * notice per order.
 */
describe('queries act on what the caller may see', function () {
  this.timeout(120_000)
  const namespace = uniqueNamespace('query-scope')
  let stack: Stack
  let base: string
  let buyer: Actor
  let otherBuyer: Actor
  let sellerA: Actor
  let sellerB: Actor
  let buyerStream: Listener
  let sellerStream: Listener
  const streams: Listener[] = []
  const products: Record<string, { id: string }> = {}
  let order: { id: string; total: number }
  let marker: { id: string }

  const get = (path: string, actor?: Actor) => json(base, 'GET', path, undefined, actor?.token)
  const product = async (seller: Actor, body: Record<string, unknown>) => {
    const created = await json(base, 'POST', '/products', { description: '', currency: 'EUR', stock: 10, ...body }, seller.token)
    expect(created.status, JSON.stringify(created.body)).to.equal(201)
    return created.body
  }
  const placeOrder = (actor: Actor, items: Array<{ productId: string; quantity: number }>) =>
    waitFor(async () => {
      const answer = await json(base, 'POST', '/orders', { items }, actor.token)
      return answer.status === 201 ? answer.body : undefined
    }, { timeoutMs: 20_000, what: 'an order once the products reached the orders projection' })

  before(async () => {
    stack = await startStack(namespace)
    base = stack.base
    buyer = await register(base, 'buyer', 'Query Buyer')
    otherBuyer = await register(base, 'buyer', 'Other Buyer')
    sellerA = await register(base, 'seller', 'Seller Ann')
    sellerB = await register(base, 'seller', 'Seller Bea')
    products.lamp = await product(sellerA, { title: 'Brass Lamp', price: 1_000, stock: 5 })
    products.shade = await product(sellerA, { title: 'lamp shade', price: 250 })
    products.desk = await product(sellerB, { title: 'Oak Desk', price: 24_900, currency: 'GBP' })
    products.chair = await product(sellerB, { title: 'Chair', price: 3_000 })
    products.rug = await product(sellerA, { title: 'Rug', price: 2_500 })
    buyerStream = listen(base, buyer.token!)
    sellerStream = listen(base, sellerB.token!)
    streams.push(buyerStream, sellerStream)
    await opened(buyerStream)
    await opened(sellerStream)
    // 2 x 1,000 (seller A) + 1 x 3,000 (seller B): a whole of 5,000, seller A's share 2,000
    order = await placeOrder(buyer, [{ productId: products.lamp.id, quantity: 2 }, { productId: products.chair.id, quantity: 1 }])
    // seller A's whole order of 2,500: more than their share of the first, less than its whole
    await placeOrder(buyer, [{ productId: products.rug.id, quantity: 1 }])
    marker = await placeOrder(buyer, [{ productId: products.shade.id, quantity: 1 }])
  })

  after(async () => {
    for (const stream of streams) stream.close()
    await stack?.stop()
  })

  describe('$select never decides who may read an order', () => {
    it("a seller's GET /orders/:id?$select[]=status is their order's status (was a 500)", async () => {
      const answer = await get(`/orders/${order.id}?$select[]=status`, sellerA)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
      expect(answer.body).to.deep.equal({ status: 'created' })
    })

    it("a seller's GET /orders?$select[]=total lists their subtotals (was a 400 with internal text)", async () => {
      const answer = await get(`/orders?$select[]=total&$select[]=id`, sellerA)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
      expect(answer.body.data.find((o: { id: string }) => o.id === order.id)).to.deep.equal({ id: order.id, total: 2_000 })
    })

    it('the buyer who owns the order reads it with $select (was 403)', async () => {
      const answer = await get(`/orders/${order.id}?$select[]=status&$select[]=total`, buyer)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
      expect(answer.body).to.deep.equal({ status: 'created', total: 5_000 })
    })

    it('another buyer is still refused, whatever they select', async () => {
      expect((await get(`/orders/${order.id}?$select[]=status`, otherBuyer)).status).to.equal(403)
      expect((await get(`/orders/${order.id}?$select[]=buyerId`, sellerB)).status).to.equal(200)
    })

    const refused: Array<[string, string, () => Actor | undefined]> = [
      ['an internal order field', `/orders?$select[]=sellerIds`, () => sellerA],
      ['an unknown order field', `/orders?$select[]=secret`, () => buyer],
      ['a user password', '/users/:buyer?$select[]=password', () => buyer],
      ['a product field that is internal', '/products?$select[]=ordered', () => undefined],
      ['a balance field that does not exist', '/balances/:buyer?$select[]=email', () => buyer],
      ['a chatroom field that does not exist', '/chatrooms/:room?$select[]=memberIds', () => buyer]
    ]
    for (const [what, path, who] of refused) {
      it(`$select of ${what} is a 400 naming $select`, async () => {
        const answer = await get(path.replace(':buyer', buyer.id!).replace(':room', '00000000-0000-4000-8000-000000000000'), who())
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
        expect(answer.body.data).to.have.property('$select')
      })
    }

    it('$select of public fields works on other resources too', async () => {
      const user = await get(`/users/${buyer.id}?$select[]=name`, buyer)
      expect(user.status).to.equal(200)
      expect(user.body).to.deep.equal({ name: 'Query Buyer' })
      const listed = await get(`/products?sellerId=${sellerA.id}&$select[]=title&$sort[price]=-1`)
      expect(listed.body.data).to.deep.equal([{ title: 'Rug' }, { title: 'Brass Lamp' }, { title: 'lamp shade' }])
    })
  })

  describe("a seller's filters and sorts on total act on their own subtotal", () => {
    const ids = (answer: { body: { data: Array<{ id: string }> } }) => answer.body.data.map((o) => o.id)

    it('total=<the whole order> finds nothing for a seller, total=<their share> finds it', async () => {
      expect(ids(await get(`/orders?total=5000`, sellerA))).not.to.include(order.id)
      expect(ids(await get(`/orders?total=2000`, sellerA))).to.include(order.id)
      expect(ids(await get(`/orders?total=5000`, buyer))).to.include(order.id)
    })

    it('total[$gt] and total[$lt] probe the share, not the whole', async () => {
      expect(ids(await get(`/orders?total[$gt]=2000`, sellerA))).not.to.include(order.id)
      expect(ids(await get(`/orders?total[$lt]=4999`, sellerB))).to.include(order.id)
      expect(ids(await get(`/orders?total[$gte]=3001`, sellerB))).not.to.include(order.id)
    })

    it("sorting by total orders a seller's list by their subtotals", async () => {
      const answer = await get(`/orders?$sort[total]=-1`, sellerA)
      expect(answer.body.data.map((o: { total: number }) => o.total)).to.deep.equal([2_500, 2_000, 250])
      expect(answer.body.total).to.equal(3)
    })
  })

  describe('$limit and $skip are bounded', () => {
    it('an absurd $limit is the maximum page, not 1', async () => {
      const answer = await get(`/products?$limit=99999999999999999999999`)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
      expect(answer.body.limit).to.equal(100)
      expect(answer.body.data.length).to.equal(5)
      expect((await get(`/orders?$limit=1000`, buyer)).body.limit).to.equal(100)
    })

    const bad = ['$limit=-1', '$limit=1.5', '$limit=1e3', '$limit=ten', '$skip=-2', '$skip=0.5', '$skip=99999999999999999999999']
    for (const param of bad) {
      it(`${param} is a 400 naming it`, async () => {
        const answer = await get(`/products?${param}`)
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
        expect(answer.body.data).to.have.property(param.split('=')[0]!)
      })
    }
  })

  describe('a product listing a storefront can use', () => {
    const titles = (answer: { body: { data: Array<{ title: string }> } }) => answer.body.data.map((p) => p.title)

    it('title[$ilike] is a case-insensitive contains', async () => {
      expect(titles(await get(`/products?title[$ilike]=${encodeURIComponent('%LAMP%')}&$sort[title]=1`))).to.deep.equal(['Brass Lamp', 'lamp shade'])
    })

    it('price range, currency, and sorts on price, title and createdAt', async () => {
      expect(titles(await get(`/products?price[$gte]=250&price[$lte]=3000&$sort[price]=-1`))).to.deep.equal(['Chair', 'Rug', 'Brass Lamp', 'lamp shade'])
      expect(titles(await get(`/products?currency=GBP`))).to.deep.equal(['Oak Desk'])
      expect(titles(await get(`/products?$sort[createdAt]=1`))).to.deep.equal(['Brass Lamp', 'lamp shade', 'Oak Desk', 'Chair', 'Rug'])
    })

    it('available is stock minus what was ordered; stock stays as the seller set it', async () => {
      const lamp = await waitFor(async () => {
        const answer = await get(`/products/${products.lamp.id}`)
        return answer.body.available === 3 ? answer.body : undefined
      }, { timeoutMs: 15_000, what: 'the order counted in the catalog' })
      expect(lamp).to.include({ stock: 5, available: 3 })
      expect(lamp).not.to.have.property('ordered')
    })

    it('available[$gt]=0 lists what is in stock', async () => {
      const last = await placeOrder(otherBuyer, [{ productId: products.lamp.id, quantity: 3 }])
      expect(last.total).to.equal(3_000)
      await waitFor(async () => (await get(`/products/${products.lamp.id}`)).body.available === 0, { timeoutMs: 15_000, what: 'the lamp sold out' })
      expect(titles(await get(`/products?available[$gt]=0&$sort[price]=1`))).to.deep.equal(['lamp shade', 'Rug', 'Chair', 'Oak Desk'])
      // what POST and PATCH return for stock is unchanged
      const patched = await json(base, 'PATCH', `/products/${products.lamp.id}`, { stock: 7 }, sellerA.token)
      expect(patched.body).to.include({ stock: 7, available: 2 })
    })
  })

  describe('chatrooms', () => {
    it('a member id of no user is a 400 naming memberIds', async () => {
      const answer = await json(base, 'POST', '/chatrooms', { title: 'x', memberIds: ['00000000-0000-4000-8000-000000000000'] }, buyer.token)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
      expect(answer.body.data).to.have.property('memberIds')
    })

    it("creating a room with a stranger does not reveal the stranger's name", async () => {
      const answer = await json(base, 'POST', '/chatrooms', { title: 'hello', memberIds: [otherBuyer.id] }, buyer.token)
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201)
      expect(answer.body.members).to.deep.equal([{ userId: buyer.id, name: 'Query Buyer' }, { userId: otherBuyer.id, name: null }])
    })
  })

  describe('one buyer notice per order', () => {
    it('the buyer gets one order.placed notice per order, with the whole order', async () => {
      const about = (orderId: string) => buyerStream.of('notice').filter((e) => e.data.orderId === orderId)
      await waitFor(() => about(marker.id).length > 0, { timeoutMs: 15_000, what: "the marker order's notice" })
      // the two-seller order was placed (and its events committed) before the marker
      expect(about(order.id).map((e) => ({ kind: e.data.kind, total: e.data.total, lines: e.data.items.length }))).to.deep.equal([
        { kind: 'order.placed', total: 5_000, lines: 2 }
      ])
      expect(about(order.id)[0]!.data).not.to.have.property('sellerId')
    })

    it('each seller still gets order.received with their part', async () => {
      const seller = sellerStream
      await waitFor(() => seller.of('notice').some((e) => e.data.orderId === order.id), { timeoutMs: 15_000, what: "seller B's notice" })
      expect(seller.of('notice').filter((e) => e.data.orderId === order.id).map((e) => ({ kind: e.data.kind, total: e.data.total }))).to.deep.equal([
        { kind: 'order.received', total: 3_000 }
      ])
    })
  })
})
