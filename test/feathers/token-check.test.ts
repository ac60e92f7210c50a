import { expect } from 'chai'
import jwt from 'jsonwebtoken'
import { jwtOptions, readUserToken } from '../../shared/feathers/auth.ts'
import { waitFor } from '../../shared/testing/wait.ts'

/** The token check remembers tokens it verified; what it answers must be what a fresh verify would. */
describe('token check: a token verified once is known again, still only while it is valid', function () {
  const secret = 'a-test-secret-of-some-length'
  const sign = (claims: Record<string, unknown>, options: jwt.SignOptions = {}, key = secret) =>
    jwt.sign({ role: 'admin', email: 'a@example.com', name: 'Ada', ...claims }, key, {
      subject: 'user-1', audience: jwtOptions.audience, issuer: jwtOptions.issuer, algorithm: jwtOptions.algorithm, expiresIn: '1d', ...options
    })

  it('answers the same claims the second time, a copy its caller may change', function () {
    const token = sign({})
    const first = readUserToken(token, secret)!
    expect(first.caller).to.deep.equal({ id: 'user-1', role: 'admin', email: 'a@example.com', name: 'Ada' })
    first.caller.role = 'buyer'
    expect(readUserToken(token, secret)!.caller.role).to.equal('admin')
  })

  it('refuses a token once it has expired, though it was verified while valid', async function () {
    const token = sign({}, { expiresIn: 1 })
    expect(readUserToken(token, secret)).to.not.equal(undefined)
    await waitFor(() => readUserToken(token, secret) === undefined, { timeoutMs: 3_000, what: 'the token refused after its exp' })
  })

  it('refuses a token not yet valid (nbf), then accepts it from then on', async function () {
    const token = sign({}, { notBefore: 1 })
    expect(readUserToken(token, secret)).to.equal(undefined)
    await waitFor(() => readUserToken(token, secret) !== undefined, { timeoutMs: 3_000, what: 'the token accepted from its nbf' })
  })

  it('knows a token only with the secret it was verified with, and never a changed one', function () {
    const token = sign({})
    expect(readUserToken(token, secret)).to.not.equal(undefined)
    expect(readUserToken(token, 'another-secret')).to.equal(undefined)
    const [header, payload] = token.split('.')
    const forged = `${header}.${payload}.${sign({}, {}, 'another-secret').split('.')[2]}`
    expect(readUserToken(forged, secret)).to.equal(undefined)
  })
})
