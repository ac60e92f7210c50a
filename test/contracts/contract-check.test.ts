import { expect } from 'chai'
import { Ajv, addFormats } from '@feathersjs/schema'
import { PRODUCT_UPDATED, type ProductEvent } from '../../shared/contracts/index.ts'
import { isIsoTimestamp, withFastIsoTimestamps } from '../../shared/contracts/date-time-format.ts'
import { checkContract } from '../../shared/contracts/validate.ts'

/** The checks every event goes through twice (publish, delivery), made cheaper without changing a verdict. */
describe('the contract check, taken short', () => {
  const product = (changes: Partial<ProductEvent> = {}): ProductEvent => ({
    productId: 'p1', sellerId: 's1', parentId: null, title: 'Mug', description: 'Stoneware', price: 2_400, currency: 'EUR',
    stock: 3, version: 1, updatedAt: '2026-12-04T01:02:03.456Z', ...changes
  })

  it('judges a date-time exactly as ajv-formats does, isoTimestamp()s and every near miss alike', () => {
    const full = addFormats(new Ajv(), ['date-time']).compile({ type: 'string', format: 'date-time' })
    const fast = withFastIsoTimestamps(addFormats(new Ajv(), ['date-time'])).compile({ type: 'string', format: 'date-time' })
    const seeds = [
      '2026-12-04T01:02:03.456Z', '2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z',
      '2000-02-29T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-04-31T12:00:00.000Z', '2026-12-31T23:59:60.000Z',
      '2026-12-31T24:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z', '2026-01-00T00:00:00.000Z',
      '2026-01-01t00:00:00.000z', '2026-01-01 00:00:00.000Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+01:00'
    ]
    const alphabet = '0123456789-:.TtZz +x\u0660'
    let seed = 42
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n)
    const cases = [...seeds]
    for (const base of seeds) {
      for (let i = 0; i < 2_000; i++) {
        const chars = [...base]
        for (let k = 1 + random(2); k > 0; k--) chars[random(chars.length)] = alphabet[random(alphabet.length)]!
        cases.push(chars.join(''))
      }
    }
    let accepted = 0
    for (const value of cases) {
      expect(fast(value), value).to.equal(full(value))
      if (isIsoTimestamp(value)) {
        accepted++
        expect(full(value), `fast path took ${value}`).to.equal(true)
      }
    }
    expect(accepted).to.be.greaterThan(100)
  })

  it('finds unstorable text from the JSON text as it does from the value, in values and keys', () => {
    const payloads: unknown[] = [
      product(), product({ title: 'nul\u0000' }), product({ description: 'lone \ud800 surrogate' }), product({ title: 'low \udc00 first' }),
      product({ title: 'astral 💡 and \ufffd' }), product({ title: 'a backslash-u \\u0000 as text' }), product({ title: 'tab\tand\nnewline' }),
      { ...product(), ['k\u0000']: 1 }
    ]
    for (const payload of payloads) {
      const json = JSON.stringify(payload)
      const byValue = checkContract(PRODUCT_UPDATED, payload)
      expect(checkContract(PRODUCT_UPDATED, payload, json), json).to.deep.equal(byValue)
      // a delivered body: the same bytes decoded again
      const delivered = Buffer.from(json).toString('utf8')
      expect(checkContract(PRODUCT_UPDATED, JSON.parse(delivered), delivered), json).to.deep.equal(byValue)
    }
    expect(checkContract(PRODUCT_UPDATED, product({ title: 'nul\u0000' }), JSON.stringify(product({ title: 'nul\u0000' })))).to.deep.include({ ok: false })
  })
})
