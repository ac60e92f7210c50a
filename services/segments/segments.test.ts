import { expect } from 'chai'
import { Bus } from '../../shared/bus/bus.ts'
import type { UserRegistered } from '../../shared/contracts/user.ts'
import { describeOwnRecordRules } from '../../shared/testing/access.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import { call } from '../../shared/testing/http.ts'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { identity, type TestIdentity } from '../../shared/testing/tokens.ts'
import { waitFor } from '../../shared/testing/wait.ts'
import { createApp as createSegments } from './app.ts'
import { segmentFor } from './rules.ts'

describe('segments: every new user in a segment, by configurable rules', () => {
  const ns = uniqueNamespace('segments')
  const apps = new TestApps(ns)
  const env = testEnv(ns)
  let segments: RunningApp
  let tap: Bus
  let owner: TestIdentity

  /** Publishes a registration as users would, and waits for the user's segment. */
  const registered = async (user: TestIdentity, role: UserRegistered['role'] = user.role, email = user.email) => {
    await tap.publisher.publish('user.registered', { userId: user.id, email, name: user.name, role, registeredAt: new Date().toISOString() })
    return waitFor(async () => {
      const answer = await call(segments.url, 'GET', `/segments/${user.id}`, { token: user.token })
      return answer.status === 200 && answer.body
    }, { what: `the segment of ${email}` })
  }

  before(async () => {
    segments = await apps.start(
      createSegments(env, {
        segmentRules: [
          { segment: 'merchants', role: 'seller' },
          { segment: 'partners', emailDomains: ['partner.example', 'Friends.Example'] }
        ]
      })
    )
    tap = new Bus({ url: env.amqpUrl, namespace: ns, service: 'test' })
    await tap.start()
    owner = identity('buyer', 'owner')
    await registered(owner)
  })

  after(async () => {
    await tap?.stop()
    await apps.close()
  })

  it('a seller is a merchant, a partner domain (or its subdomain) a partner, anyone else a consumer', async () => {
    const seller = identity('seller')
    const partner = identity('buyer')
    const subdomain = identity('buyer')
    expect(await registered(seller)).to.deep.equal({ userId: seller.id, segment: 'merchants' })
    expect(await registered(partner, 'buyer', 'pat@partner.example')).to.deep.equal({ userId: partner.id, segment: 'partners' })
    expect(await registered(subdomain, 'buyer', 'sue@shop.FRIENDS.example')).to.deep.equal({ userId: subdomain.id, segment: 'partners' })
    expect((await call(segments.url, 'GET', `/segments/${owner.id}`, { token: owner.token })).body).to.deep.equal({ userId: owner.id, segment: 'consumers' })
  })

  it('the first matching rule wins; a rule without conditions matches everyone', () => {
    const rules = [{ segment: 'vip', emailDomains: ['vip.example'] }, { segment: 'merchants', role: 'seller' as const }, { segment: 'everyone' }]
    expect(segmentFor({ role: 'seller', email: 'a@vip.example' }, rules, 'consumers')).to.equal('vip')
    expect(segmentFor({ role: 'seller', email: 'a@other.example' }, rules, 'consumers')).to.equal('merchants')
    expect(segmentFor({ role: 'buyer', email: 'a@other.example' }, rules, 'consumers')).to.equal('everyone')
    expect(segmentFor({ role: 'buyer', email: 'a@notvip.example' }, rules.slice(0, 1), 'consumers')).to.equal('consumers')
  })

  describe('SEGMENT_RULES', () => {
    const withRules = (value: string | undefined, fn: () => void) => {
      const saved = process.env.SEGMENT_RULES
      if (value === undefined) delete process.env.SEGMENT_RULES
      else process.env.SEGMENT_RULES = value
      try {
        fn()
      } finally {
        if (saved === undefined) delete process.env.SEGMENT_RULES
        else process.env.SEGMENT_RULES = saved
      }
    }
    const configOf = () => {
      const app = createSegments(env)
      void app.get('db').destroy()
      return app.get('config')
    }

    it('defaults to sellers as merchants, a partner domain as partners, everyone else consumers', () => {
      withRules(undefined, () => {
        expect(configOf()).to.deep.include({
          segmentRules: [{ segment: 'merchants', role: 'seller' }, { segment: 'partners', emailDomains: ['partners.bazaar.example'] }],
          defaultSegment: 'consumers'
        })
      })
    })

    it('is read as a JSON array of rules', () => {
      withRules('[{"segment":"wholesale","role":"seller","emailDomains":["bulk.example"]}]', () => {
        expect(configOf().segmentRules).to.deep.equal([{ segment: 'wholesale', role: 'seller', emailDomains: ['bulk.example'] }])
      })
    })

    const refused: Array<[string, string, RegExp]> = [
      ['not JSON', '[{segment:', /SEGMENT_RULES is not JSON/],
      ['a rule without a segment', '[{"role":"seller"}]', /segmentRules\/0 must have required property 'segment'/],
      ['an unknown condition', '[{"segment":"x","country":"DE"}]', /segmentRules\/0 must NOT have additional properties/],
      ['an unknown role', '[{"segment":"x","role":"king"}]', /segmentRules\/0\/role/],
      ['a segment name with spaces', '[{"segment":"big spenders"}]', /segmentRules\/0\/segment must match pattern/],
      ['an object instead of a list', '{"segment":"x"}', /segmentRules must be array/]
    ]
    for (const [what, value, message] of refused) {
      it(`with ${what} stops the service at start, saying why`, () => {
        withRules(value, () => expect(() => createSegments(env)).to.throw(message))
      })
    }
  })

  describeOwnRecordRules('segments', { url: () => segments.url, owner: () => owner })
})
