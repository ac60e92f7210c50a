import { expect } from 'chai'
import { USER_REGISTERED } from '../../shared/contracts/user.ts'
import { createServiceApp } from '../../shared/feathers/app.ts'
import { startApp, testEnv, uniqueNamespace, type RunningApp } from '../../shared/testing/index.ts'
import { cleanUp, registered } from '../bus/support.ts'
import { scrape, valueOf } from './scrape.ts'

describe('metrics: one registry per app', () => {
  const ns = uniqueNamespace('metrics_registries')
  const running: RunningApp[] = []

  before(async () => {
    // two instances of one service in one process, as the tests run them
    for (let i = 0; i < 2; i++) running.push(await startApp(createServiceApp({ service: 'twin', env: testEnv(ns), migrations: [] })))
  })

  after(() => cleanUp(ns, ...running))

  it('two apps of one process export no name clash and count only their own publishes', async () => {
    const [a, b] = running as [RunningApp, RunningApp]
    // nothing consumes user.registered in this namespace: the broker returns each publish
    const published = async (app: RunningApp) =>
      valueOf(await scrape(app.url), 'bazaar_messages_published_total', { routing_key: USER_REGISTERED, outcome: 'returned' })
    const [aBefore, bBefore] = [await published(a), await published(b)]
    for (let i = 0; i < 3; i++) await a.app.get('bus').publisher.publish(USER_REGISTERED, registered())
    expect((await published(a)) - aBefore).to.equal(3)
    expect((await published(b)) - bBefore).to.equal(0)
  })
})
