import { expect } from 'chai'
import { Coalescer } from '../../shared/batch/coalescer.ts'
import { waitFor } from '../../shared/testing/index.ts'

/** A flush the test releases by hand, so that what arrives meanwhile can be seen to wait. */
function gatedFlush() {
  const batches: number[][] = []
  let release: () => void = () => {}
  let gate = Promise.resolve()
  return {
    batches,
    hold() {
      gate = new Promise<void>((resolve) => (release = resolve))
    },
    release: () => release(),
    flush: async (items: number[]) => {
      batches.push(items)
      await gate
    }
  }
}

describe('batch coalescer', () => {
  it('puts what arrives in one burst into one flush, at most maxBatch at a time, in order', async () => {
    const gated = gatedFlush()
    const batcher = new Coalescer(gated.flush, { maxBatch: 4 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i)))
    expect(gated.batches).to.deep.equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
  })

  it('gathers what arrives while a flush runs into the next flush, and runs one flush at a time', async () => {
    const gated = gatedFlush()
    gated.hold()
    const batcher = new Coalescer(gated.flush, { maxBatch: 100 })
    const first = batcher.add(1)
    await waitFor(() => gated.batches.length === 1, { what: 'the first flush to start' })
    const later = [batcher.add(2), batcher.add(3)]
    expect(gated.batches, 'no second flush while the first runs').to.have.length(1)
    gated.release()
    await Promise.all([first, ...later])
    expect(gated.batches).to.deep.equal([[1], [2, 3]])
  })

  it('makes a producer wait once capacity items wait, and lets it on when a flush takes them', async () => {
    const gated = gatedFlush()
    gated.hold()
    const batcher = new Coalescer(gated.flush, { maxBatch: 2, capacity: 2 })
    const running = batcher.add(0)
    await waitFor(() => gated.batches.length === 1, { what: 'the first flush to start' })
    const queued = [batcher.add(1), batcher.add(2)]
    let overflowAdded = false
    const overflow = batcher.add(3).then(() => (overflowAdded = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(batcher.size, 'the full coalescer holds only its capacity').to.equal(2)
    expect(overflowAdded).to.equal(false)
    gated.release()
    await Promise.all([running, ...queued, overflow])
    expect(gated.batches.flat()).to.deep.equal([0, 1, 2, 3])
  })

  it("rejects each item of a failed flush with the flush's error and goes on with the next batch", async () => {
    let calls = 0
    const batcher = new Coalescer<number>(async () => {
      if (calls++ === 0) throw new Error('database went away')
    }, { maxBatch: 1 })
    const outcomes = await Promise.allSettled([batcher.add(1), batcher.add(2)])
    expect(outcomes[0]).to.deep.include({ status: 'rejected' })
    expect((outcomes[0] as PromiseRejectedResult).reason.message).to.equal('database went away')
    expect(outcomes[1]).to.deep.equal({ status: 'fulfilled', value: undefined })
  })

  it('rejects only the items a flush says failed, each with its own error', async () => {
    const batcher = new Coalescer<number>(async (items) => items.map((i) => (i % 2 ? new Error(`item ${i} failed`) : undefined)), { maxBatch: 10 })
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => batcher.add(i)))
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok'))).to.deep.equal(['item 1 failed', 'ok', 'item 3 failed'])
  })

  it('runs up to `concurrency` flushes at once, and no more', async () => {
    let running = 0
    let most = 0
    const gates: Array<() => void> = []
    const batcher = new Coalescer<number>(async () => {
      most = Math.max(most, ++running)
      await new Promise<void>((resolve) => gates.push(resolve))
      running--
    }, { maxBatch: 1, concurrency: 2 })
    const all = Promise.all([1, 2, 3].map((i) => batcher.add(i)))
    await waitFor(() => gates.length === 2, { what: 'two flushes to start' })
    expect(running).to.equal(2)
    gates.shift()!()
    await waitFor(() => gates.length === 2, { what: 'the third flush to start once one finished' })
    gates.splice(0).forEach((release) => release())
    await all
    expect(most).to.equal(2)
  })

  it('says when it is idle: nothing waiting and no flush running', async () => {
    const gated = gatedFlush()
    gated.hold()
    const batcher = new Coalescer(gated.flush, { maxBatch: 10 })
    void batcher.add(1)
    let idle = false
    const whenIdle = batcher.idle().then(() => (idle = true))
    await waitFor(() => gated.batches.length === 1, { what: 'the flush to start' })
    expect(idle).to.equal(false)
    gated.release()
    await whenIdle
  })
})
