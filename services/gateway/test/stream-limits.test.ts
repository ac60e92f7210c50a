import { expect } from 'chai'
import jwt from 'jsonwebtoken'
import { randomUUID } from 'node:crypto'
import { jwtOptions } from '../../../shared/feathers/auth.ts'
import { identity, waitFor } from '../../../shared/testing/index.ts'
import { gatewayParts } from '../app.ts'
import { rawStream } from './raw-stream.ts'
import { gatewayFixture, quickGateway, registerAppliance } from './support.ts'

/** A user token signed as the users service signs them, expiring in `seconds`. */
function shortLivedToken(secret: string, seconds: number): string {
  return jwt.sign({ role: 'buyer', email: 'brief@example.com', name: 'Brief', sessionVersion: 0 }, secret, {
    subject: randomUUID(),
    audience: jwtOptions.audience,
    issuer: jwtOptions.issuer,
    algorithm: jwtOptions.algorithm,
    expiresIn: seconds,
    header: { typ: 'access', alg: jwtOptions.algorithm }
  })
}

describe('gateway: stream limits (token expiry, streams per principal)', () => {
  const gateway = gatewayFixture('gateway-limits', { ...quickGateway, GATEWAY_KEEPALIVE_MS: '300', GATEWAY_MAX_STREAMS_PER_PRINCIPAL: '2' })
  const streams: Array<ReturnType<typeof rawStream>> = []
  const open = (token: string) => {
    const stream = rawStream(gateway.running.url, token)
    streams.push(stream)
    return stream
  }
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.request.destroy()
  })

  it('a stream ends when its token expires (by the next keep-alive), and the token then opens none', async () => {
    const token = shortLivedToken(gateway.env.jwtSecret, 2)
    const stream = open(token)
    await waitFor(() => stream.status === 200, { what: 'the stream to open' })
    const expiresAt = (jwt.decode(token) as jwt.JwtPayload).exp! * 1000
    await waitFor(() => stream.ended, { timeoutMs: 5_000, what: 'the stream to end' })
    // not before the token expired, and within a keep-alive interval (plus a little scheduling) after it
    expect(Date.now()).to.be.within(expiresAt, expiresAt + 1_500)
    const again = open(token)
    await waitFor(() => again.ended, { what: 'the refusal' })
    expect(again.status).to.equal(401)
  })

  it('a user gets at most GATEWAY_MAX_STREAMS_PER_PRINCIPAL streams: one more is a 429 with a Feathers body', async () => {
    const ann = identity('buyer')
    const first = open(ann.token)
    const second = open(ann.token)
    await waitFor(() => first.status === 200 && second.status === 200, { what: 'two streams' })
    const third = open(ann.token)
    await waitFor(() => third.ended, { what: 'the refusal' })
    expect(third.status).to.equal(429)
    expect(JSON.parse(third.body)).to.include({ name: 'TooManyRequests', code: 429, className: 'too-many-requests' })
    // others are not affected, and a stream that closes gives its place back
    const bob = open(identity('buyer').token)
    await waitFor(() => bob.status === 200, { what: "another user's stream" })
    first.request.destroy()
    await waitFor(() => gatewayParts(gateway.running.app).hub.size === 2, { what: 'the closed stream to be released' })
    const fourth = open(ann.token)
    await waitFor(() => fourth.status === 200, { what: 'a stream in the freed place' })
  })

  it('so does an appliance, each appliance on its own', async () => {
    const seller = identity('seller')
    const printer = await registerAppliance(gateway.running.url, seller.token, 'Printer')
    const label = await registerAppliance(gateway.running.url, seller.token, 'Label printer')
    const opened = [open(printer.token), open(printer.token), open(label.token)]
    await waitFor(() => opened.every((s) => s.status === 200), { what: 'three streams' })
    const refused = open(printer.token)
    await waitFor(() => refused.ended, { what: 'the refusal' })
    expect(refused.status).to.equal(429)
  })
})
