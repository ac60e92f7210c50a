import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { call } from './http.ts'
import { identity, type TestIdentity } from './tokens.ts'

/** One row of an authorization table: who calls, and the status they must get. */
export interface AccessCase {
  who: string
  token: () => string | undefined
  status: number
}

/**
 * The contract's rules for a user's own records (`GET /<path>/:userId`):
 * 401 without or with a bad token, 403 for another user, 200 for the user
 * and for an admin.
 */
export function ownRecordAccessCases(owner: () => Pick<TestIdentity, 'token'>): AccessCase[] {
  return [
    { who: 'no token', token: () => undefined, status: 401 },
    { who: 'a malformed token', token: () => 'not-a-jwt', status: 401 },
    { who: 'a token signed with another secret', token: () => identity('admin', 'forger', `other-${randomUUID()}`).token, status: 401 },
    { who: 'another user', token: () => identity('buyer').token, status: 403 },
    { who: 'the user', token: () => owner().token, status: 200 },
    { who: 'an admin', token: () => identity('admin').token, status: 200 }
  ]
}

/** One row of a bad-input table. */
export interface BadInputCase {
  what: string
  method: string
  path: () => string
  body?: unknown
  status: number
  /** names that must appear in the error's `data` */
  fields?: string[]
}

/** Bad requests every `GET /<path>/:userId` resource must answer with a 4xx. */
export function ownRecordBadInputCases(path: string, owner: () => { id: string }): BadInputCase[] {
  return [
    { what: 'an id that is not a UUID', method: 'GET', path: () => `/${path}/me`, status: 404 },
    { what: 'an id with SQL in it', method: 'GET', path: () => `/${path}/1'%20or%20'1'='1`, status: 404 },
    { what: 'an unknown user', method: 'GET', path: () => `/${path}/${randomUUID()}`, status: 404 },
    { what: 'a query parameter', method: 'GET', path: () => `/${path}/${owner().id}?points=1000`, status: 400, fields: ['points'] },
    { what: 'a listing', method: 'GET', path: () => `/${path}`, status: 405 },
    { what: 'a write', method: 'POST', path: () => `/${path}`, body: { userId: randomUUID() }, status: 405 },
    { what: 'a patch', method: 'PATCH', path: () => `/${path}/${owner().id}`, body: {}, status: 405 }
  ]
}

/**
 * Mocha tests of a `GET /<path>/:userId` resource: the access table of
 * `ownRecordAccessCases` and the bad-input table of `ownRecordBadInputCases`.
 */
export function describeOwnRecordRules(path: string, target: { url: () => string; owner: () => TestIdentity }): void {
  describe(`who may read /${path}/:userId`, () => {
    for (const { who, token, status } of ownRecordAccessCases(target.owner)) {
      it(`GET /${path}/:userId with ${who}: ${status}`, async () => {
        const answer = await call(target.url(), 'GET', `/${path}/${target.owner().id}`, { token: token() })
        expect(answer.status).to.equal(status)
      })
    }
  })

  describe(`bad input to /${path} is a 4xx naming what is wrong, never a 500`, () => {
    for (const { what, method, path: to, body, status, fields } of ownRecordBadInputCases(path, target.owner)) {
      it(`${what}: ${status}`, async () => {
        const answer = await call(target.url(), method, to(), { body, token: identity('admin').token })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
        for (const field of fields ?? []) expect(JSON.stringify(answer.body.data)).to.include(field)
      })
    }
  })
}
