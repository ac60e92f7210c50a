import { expect } from 'chai'
import { BadRequest, FeathersError } from '@feathersjs/errors'
import { toClientError } from '../../shared/feathers/errors.ts'
import { errorForStatus, PayloadTooLarge, UnsupportedMediaType } from '../../shared/feathers/http-errors.ts'

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
    ['a deadlock the database broke by rolling this transaction back', convertedByKnex(pg('40P01')), 503],
    ['a serialization failure', pg('40001'), 503],
    ['a NUL byte PostgreSQL refused (22021)', convertedByKnex(pg('22021')), 400],
    ['a value too large for its index (54000)', convertedByKnex(pg('54000')), 400],
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

/** Statuses Feathers has no class for still leave with their own name: a 413 is not a BadRequest. */
describe('HTTP statuses as Feathers error bodies', () => {
  const cases: Array<[number, string, string]> = [
    [413, 'PayloadTooLarge', 'payload-too-large'],
    [415, 'UnsupportedMediaType', 'unsupported-media-type'],
    [400, 'BadRequest', 'bad-request'],
    [411, 'LengthRequired', 'length-required'],
    [416, 'RangeNotSatisfiable', 'range-not-satisfiable'],
    [431, 'RequestHeaderFieldsTooLarge', 'request-header-fields-too-large']
  ]
  for (const [status, name, className] of cases) {
    it(`${status} is ${name}`, () => {
      const error = errorForStatus(status, 'x').toJSON()
      expect(error).to.include({ name, className, code: status })
    })
  }

  it('413 and 415 have classes of their own', () => {
    expect(new PayloadTooLarge('big', { limit: 1 }).toJSON()).to.deep.include({ name: 'PayloadTooLarge', code: 413, className: 'payload-too-large', data: { limit: 1 } })
    expect(new UnsupportedMediaType().toJSON()).to.include({ name: 'UnsupportedMediaType', code: 415, className: 'unsupported-media-type' })
  })
})
