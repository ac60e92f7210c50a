import { expect } from 'chai'
import { formatTraceparent, isSampled, newTraceparent, spanContextOf, traceIdOf, validTraceparent } from '../../shared/tracing/traceparent.ts'

describe('traceparent: what the bus accepts and passes on', () => {
  const good = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

  it('keeps a well-formed one as it is; upper-case hex is refused, as W3C says', () => {
    expect(validTraceparent(good)).to.equal(good)
    expect(validTraceparent(good.toUpperCase())).to.equal(undefined)
    expect(validTraceparent(good.replace('-01', '-00'))).to.equal(good.replace('-01', '-00'))
  })

  it('refuses what the W3C rules refuse: all-zero ids, version ff, wrong lengths, other types', () => {
    for (const bad of [
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01',
      '00-not-a-trace-01',
      '',
      42,
      undefined
    ]) expect(validTraceparent(bad), String(bad)).to.equal(undefined)
  })

  it('a later version is read by its version-00 part and passed on as version 00', () => {
    expect(validTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future')).to.equal(good)
  })

  it('a new one has random ids, is not sampled, and parses back', () => {
    const made = newTraceparent()
    expect(made).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
    expect(newTraceparent()).to.not.equal(made)
    expect(isSampled(made)).to.equal(false)
    expect(formatTraceparent(spanContextOf(made)!)).to.equal(made)
    expect(isSampled(good)).to.equal(true)
    expect(traceIdOf(good)).to.equal('0af7651916cd43dd8448eb211c80319c')
  })
})
