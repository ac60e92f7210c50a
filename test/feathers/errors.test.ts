import { expect } from 'chai'
import { BadRequest, FeathersError } from '@feathersjs/errors'
import { toClientError } from '../../shared/feathers/errors.ts'

/** What a client is told when the database complains: the right status, and never the SQL. */
describe('database errors as clients see them', () => {
  const pg = (code: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`insert into "users" ("email") values ($1) - violates something (${code})`), { code, severity: 'ERROR', routine: 'x', ...extra })
  /** what @feathersjs/knex makes of it: a BadRequest carrying the SQL, the original under a symbol */
  const convertedByKnex = (original: Error) =>
    Object.assign(new BadRequest(original.message), { [Symbol.for('@feathersjs/knex/error')]: original })

  const cases: Array<[string, unknown, number]> = [
    ['a unique violation converted by @feathersjs/knex', convertedByKnex(pg('23505', { constraint: 'users_email_unique' })), 409],
    ['an invalid uuid', pg('22P02'), 400],
    ['a missing referenced record', pg('23503'), 404],
    ['the server terminating the connection (restart)', convertedByKnex(pg('57P01')), 503],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 503],
    ['a connection cut mid-query', new Error('Connection terminated unexpectedly'), 503],
    ['any other database error', convertedByKnex(pg('42P01')), 500]
  ]
  for (const [what, error, status] of cases) {
    it(`${what}: ${status}, without SQL`, () => {
      const mapped = toClientError(error) as FeathersError
      expect(mapped).to.be.instanceOf(FeathersError)
      expect(mapped.code).to.equal(status)
      expect(JSON.stringify(mapped.toJSON())).not.to.match(/insert into/i)
    })
  }

  it('leaves errors that are not the database alone', () => {
    const plain = new Error('boom')
    expect(toClientError(plain)).to.equal(plain)
  })
})
