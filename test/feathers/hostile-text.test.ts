import { expect } from 'chai'
import { BadRequest } from '@feathersjs/errors'
import { parseJson } from '../../shared/feathers/body.ts'
import { findUnstorableText, unstorable } from '../../shared/text/storable.ts'

/** What PostgreSQL cannot store, and bytes that are not the JSON they claim to be: found before any query runs. */
describe('text PostgreSQL cannot store', () => {
  it('finds a NUL byte and lone surrogates, and leaves well-formed text (astral characters, U+FFFD) alone', () => {
    expect(unstorable('a\u0000b')).to.match(/NUL/)
    expect(unstorable('\ud800')).to.match(/surrogate/)
    expect(unstorable('x\udc00')).to.match(/surrogate/)
    expect(unstorable('\udc00\ud800')).to.match(/surrogate/)
    expect(unstorable('lamp 💡 \ufffd ünï')).to.equal(undefined)
  })

  it('names every failing field by its path, in nested objects, arrays and keys', () => {
    const problems = findUnstorableText({ title: 'ok', items: [{ note: 'a\u0000' }], ['k\u0000']: 1, deep: { bio: '\ud800' } }, 'data')
    expect(problems.map((p) => p.instancePath)).to.deep.equal(['/deep/bio', '/items/0/note', '/k\u0000'])
  })

  it('walks a body nested 100,000 deep without overflowing the stack', () => {
    let deep: unknown = 'nul\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(findUnstorableText(deep, 'data')).to.have.length(1)
  })
})

describe('JSON bodies, strictly', () => {
  const refused = (bytes: Buffer) => {
    expect(() => parseJson(bytes)).to.throw(BadRequest)
  }
  it('refuses invalid UTF-8 rather than storing U+FFFD', () => {
    refused(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff]), Buffer.from('"}')]))
    refused(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]))
    refused(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]))
  })
  it('refuses truncated JSON, scalars and __proto__ keys', () => {
    refused(Buffer.from('{"name":"a'))
    refused(Buffer.from('"just a string"'))
    refused(Buffer.from('{"__proto__":{"admin":true}}'))
  })
  it('reads an empty body as {} and valid UTF-8 as sent', () => {
    expect(parseJson(Buffer.alloc(0))).to.deep.equal({})
    expect(parseJson(Buffer.from('{"name":"💡 ü"}'))).to.deep.equal({ name: '💡 ü' })
  })
})
