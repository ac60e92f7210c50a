import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import type { Envelope } from '../../shared/bus/envelope.ts'
import { names } from '../../shared/bus/names.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { Management } from '../../shared/testing/broker.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { identity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createUsers } from '../users/app.ts'
import { registerUser, type RegisteredUser } from '../users/testing.ts'
import { createApp as createChat } from './app.ts'

describe('chat: chatrooms whose members keep their current names', () => {
  const ns = uniqueNamespace('chat')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let users: RunningApp
  let chat: RunningApp
  let tap: Bus
  const handledByChat: Envelope[] = []
  const registrations: Envelope[] = []
  let ann: RegisteredUser
  let bob: RegisteredUser
  let room: { id: string; members: Array<{ userId: string; name: string | null }> }
  const stranger = randomUUID()
  /** Creates a room once chat has heard of its members' registrations (they arrive by event). */
  const createRoom = (token: string, body: { title: string; memberIds: string[] }) =>
    waitFor(async () => {
      const answer = await call(chat.url, 'POST', '/chatrooms', { token, body })
      return answer.status === 201 ? answer : undefined
    }, { what: 'a room once chat knows its members' })

  const readRoom = (token: string) => call(chat.url, 'GET', `/chatrooms/${room.id}`, { token })
  const nameIn = (members: Array<{ userId: string; name: string | null }>, userId: string) => members.find((m) => m.userId === userId)?.name
  /** Waits until chat has handled this many user.updated events about a user. */
  const handledUpdates = (userId: string, count: number) =>
    waitFor(() => handledByChat.filter((m) => (m.payload as { userId: string }).userId === userId).length >= count, { what: `${count} updates handled by chat` })

  before(async () => {
    users = await apps.start(createUsers(env))
    chat = await apps.start(createChat(env, { retryDelaysMs: [100] }))
    chat.app.get('bus').consumers[0]!.on('handled', (message: Envelope) => handledByChat.push(message))
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    tap.consumer({
      service: 'test', purpose: 'registrations', bindings: ['user.registered'],
      handlers: { 'user.registered': async (message) => void registrations.push(message) }
    })
    await tap.start()
    await tap.startConsumers()
    ann = await registerUser(users.url, { name: 'Ann' })
    bob = await registerUser(users.url, { name: 'Bob' })
    room = (await createRoom(ann.token, { title: 'Stamps', memberIds: [bob.id] })).body
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
  })

  it('a new room has its creator as first member, named; members who have not opened it yet are unnamed', () => {
    expect(room).to.include({ title: 'Stamps', createdBy: ann.id })
    expect(room.members).to.deep.equal([
      { userId: ann.id, name: 'Ann' },
      { userId: bob.id, name: null }
    ])
  })

  it('a member id of no user is a 400 naming memberIds, and no room is made', async () => {
    const answer = await call(chat.url, 'POST', '/chatrooms', { token: ann.token, body: { title: 'Ghosts', memberIds: [bob.id, stranger] } })
    expect(answer.status, JSON.stringify(answer.body)).to.equal(400)
    expect(answer.body.data.memberIds).to.deep.equal([{ index: 1, userId: stranger, message: 'no such user' }])
  })

  it("creating a room never reveals a stranger's name: it shows once they open the room", async () => {
    const carol = await registerUser(users.url, { name: 'Carol' })
    const mallory = await registerUser(users.url, { name: 'Mallory' })
    // chat has heard Carol's current name (from user.updated), as it would of anyone who ever changed it
    await call(users.url, 'PATCH', `/users/${carol.id}`, { token: carol.token, body: { name: 'Carol Secret' } })
    await handledUpdates(carol.id, 1)
    const created = await createRoom(mallory.token, { title: 'Hi', memberIds: [carol.id] })
    expect(created.body.members).to.deep.equal([{ userId: mallory.id, name: 'Mallory' }, { userId: carol.id, name: null }])
    expect(JSON.stringify(created.body)).not.to.include('Carol Secret')
    expect(nameIn((await call(chat.url, 'GET', `/chatrooms/${created.body.id}`, { token: mallory.token })).body.members, carol.id)).to.equal(null)
    // Carol sees her own name, and by opening the room shows it to the other members
    const opened = await call(chat.url, 'GET', `/chatrooms/${created.body.id}`, { token: carol.token })
    expect(opened.body.members).to.deep.equal([{ userId: mallory.id, name: 'Mallory' }, { userId: carol.id, name: 'Carol Secret' }])
    expect(nameIn((await call(chat.url, 'GET', `/chatrooms/${created.body.id}`, { token: mallory.token })).body.members, carol.id)).to.equal('Carol Secret')
  })

  it('renaming a user updates their name in their chatrooms, and an older token does not bring the old name back', async () => {
    await call(users.url, 'PATCH', `/users/${bob.id}`, { token: bob.token, body: { name: 'Robert' } })
    await call(users.url, 'PATCH', `/users/${ann.id}`, { token: ann.token, body: { name: 'Annie' } })
    await handledUpdates(bob.id, 1)
    await handledUpdates(ann.id, 1)
    // Bob opens the room: from then on the others see his name.
    expect((await readRoom(bob.token)).status).to.equal(200)
    // Ann's token still says "Ann": the event is newer and wins.
    const answer = await readRoom(ann.token)
    expect(answer.status).to.equal(200)
    expect(answer.body.members.map((m: { name: string | null }) => m.name)).to.deep.equal(['Annie', 'Robert'])
  })

  it('an event older than the name chat has changes nothing; the same event twice is applied once', async () => {
    const publisher = tap.publisher
    const stale = { userId: bob.id, email: bob.email, name: 'Bobby (stale)', role: 'buyer' as const, changes: ['name'], updatedAt: '2000-01-01T00:00:00.000Z' }
    await publisher.publish('user.updated', stale)
    const messageId = randomUUID()
    const newest = { ...stale, name: 'Rob', updatedAt: new Date(Date.now() + 60_000).toISOString() }
    await publisher.publish('user.updated', newest, { messageId })
    await handledUpdates(bob.id, 3)
    // A redelivery of the handled message that looks even newer: only the inbox keeps it out. (Two deliveries
    // of one id in flight at once may commit in either order; the first to commit is the one applied.)
    await publisher.publish('user.updated', { ...newest, name: 'Rob (copy)', updatedAt: new Date(Date.now() + 120_000).toISOString() }, { messageId })
    await handledUpdates(bob.id, 4)
    expect(nameIn((await readRoom(bob.token)).body.members, bob.id)).to.equal('Rob')
  })

  it('user.registered reaches chat on its own queue only: the names queue is bound to user.updated only', async () => {
    const carol = await registerUser(users.url, { name: 'Carol' })
    await waitFor(() => registrations.some((m) => (m.payload as { userId: string }).userId === carol.id), { what: "Carol's user.registered" })
    // Published to everyone bound; then an update, which chat handles in queue order after anything before it.
    await call(users.url, 'PATCH', `/users/${carol.id}`, { token: carol.token, body: { name: 'Caroline' } })
    await handledUpdates(carol.id, 1)
    expect(handledByChat.map((m) => m.routingKey)).to.satisfy((keys: string[]) => keys.every((k) => k === 'user.updated'))
    const queue = names.queue(ns, 'chat', 'user-updates')
    const bindings = await new Management().request<Array<{ source: string; routing_key: string }>>('GET', `/api/queues/%2F/${encodeURIComponent(queue)}/bindings`)
    expect(bindings.filter((b) => b.source === names.eventsExchange(ns)).map((b) => b.routing_key)).to.deep.equal(['user.updated'])
    const registrationsQueue = names.queue(ns, 'chat', 'user-registrations')
    const registrationBindings = await new Management().request<Array<{ source: string; routing_key: string }>>('GET', `/api/queues/%2F/${encodeURIComponent(registrationsQueue)}/bindings`)
    expect(registrationBindings.filter((b) => b.source === names.eventsExchange(ns)).map((b) => b.routing_key)).to.deep.equal(['user.registered'])
  })

  describe('who may read a chatroom', () => {
    const cases: Array<{ who: string; token: () => string | undefined; status: number }> = [
      { who: 'no token', token: () => undefined, status: 401 },
      { who: 'a bad token', token: () => 'Bearer-nonsense', status: 401 },
      { who: 'a token signed with another secret', token: () => identity('buyer', 'forger', 'not-the-secret').token, status: 401 },
      { who: 'a user who is not a member', token: () => identity('buyer').token, status: 403 },
      { who: 'an admin who is not a member', token: () => identity('admin').token, status: 403 },
      { who: 'a member', token: () => bob.token, status: 200 },
      { who: 'the creator', token: () => ann.token, status: 200 }
    ]
    for (const { who, token, status } of cases) {
      it(`GET /chatrooms/:id with ${who}: ${status}`, async () => {
        const answer = await call(chat.url, 'GET', `/chatrooms/${room.id}`, { token: token() })
        expect(answer.status).to.equal(status)
      })
    }

    it('creating a chatroom needs a token (401)', async () => {
      const answer = await call(chat.url, 'POST', '/chatrooms', { body: { title: 'x', memberIds: [] } })
      expect(answer.status).to.equal(401)
    })
  })

  describe('bad input is a 4xx naming what is wrong, never a 500', () => {
    const cases: Array<{ what: string; method: string; path: () => string; body?: unknown; status: number; fields?: string[] }> = [
      { what: 'no body', method: 'POST', path: () => '/chatrooms', status: 400 },
      { what: 'malformed JSON', method: 'POST', path: () => '/chatrooms', body: '{"title":', status: 400 },
      { what: 'missing fields', method: 'POST', path: () => '/chatrooms', body: {}, status: 400, fields: ['title', 'memberIds'] },
      { what: 'wrong types', method: 'POST', path: () => '/chatrooms', body: { title: 7, memberIds: 'everyone' }, status: 400, fields: ['title', 'memberIds'] },
      { what: 'member ids that are not UUIDs', method: 'POST', path: () => '/chatrooms', body: { title: 'x', memberIds: ['bob', 3] }, status: 400, fields: ['memberIds/0', 'memberIds/1'] },
      { what: 'an unknown field', method: 'POST', path: () => '/chatrooms', body: { title: 'x', memberIds: [], createdBy: randomUUID() }, status: 400, fields: ['createdBy'] },
      { what: 'a blank title', method: 'POST', path: () => '/chatrooms', body: { title: '  ', memberIds: [] }, status: 400, fields: ['title'] },
      { what: 'too many members', method: 'POST', path: () => '/chatrooms', body: { title: 'x', memberIds: Array.from({ length: 101 }, () => randomUUID()) }, status: 400, fields: ['memberIds'] },
      { what: 'an array of rooms', method: 'POST', path: () => '/chatrooms', body: [{ title: 'x', memberIds: [] }], status: 400 },
      { what: 'a room id that is not a UUID', method: 'GET', path: () => '/chatrooms/general', status: 404 },
      { what: 'an unknown room', method: 'GET', path: () => `/chatrooms/${randomUUID()}`, status: 404 },
      { what: 'an unknown query parameter', method: 'GET', path: () => `/chatrooms/${room.id}?members=all`, status: 400, fields: ['members'] },
      { what: 'listing every room', method: 'GET', path: () => '/chatrooms', status: 405 }
    ]
    for (const { what, method, path, body, status, fields } of cases) {
      it(`${what}: ${status}`, async () => {
        const answer = await call(chat.url, method, path(), { body, token: ann.token })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        for (const field of fields ?? []) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }
  })
})
