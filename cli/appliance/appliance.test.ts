import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { nextEvent } from '../../shared/testing/wait.ts'
import { runAppliance } from './appliance.ts'
import { parseApplianceArgs } from './args.ts'
import { formatReceipt } from './receipt.ts'
import { readEventStream } from './sse-reader.ts'

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    }
  })
}

describe('bazaar appliance: the reference receipt printer', function () {
  it('reads an event stream the way the specification says, however it is cut', async () => {
    const retries: number[] = []
    const state = { lastEventId: '', onRetry: (ms: number) => retries.push(ms) }
    const events = []
    for await (const event of readEventStream(streamOf('retry: 1500\n\n: keep-alive\n\nid: 7\r\nevent: order\r\ndata: {"a":', '1}\r', '\n\r\ndata: one\ndata: two\n\n'), state)) {
      events.push(event)
    }
    expect(retries).to.deep.equal([1500])
    expect(events).to.deep.equal([
      { type: 'order', data: '{"a":1}', id: '7' },
      { type: 'message', data: 'one\ntwo', id: '7' }
    ])
  })

  it('takes --token, --out and --url, and refuses what it does not know', () => {
    expect(parseApplianceArgs(['--token', 'bzapp_x', '--out', '/tmp/r'], {})).to.deep.equal({
      help: false,
      options: { url: 'http://127.0.0.1:3030', token: 'bzapp_x', out: '/tmp/r' }
    })
    expect(parseApplianceArgs(['--token', 't', '--url', 'http://gw:8080'], {})).to.deep.include({ help: false })
    expect(parseApplianceArgs(['--help'], {})).to.deep.equal({ help: true })
    expect(() => parseApplianceArgs([], {})).to.throw(/--token is required/)
    expect(() => parseApplianceArgs(['--token', 't', '--url', 'nope'], {})).to.throw(/not a URL/)
    expect(() => parseApplianceArgs(['--token', 't', '--bogus'], {})).to.throw()
  })

  it('prints an order as a plain-text receipt with its lines and total', () => {
    const text = formatReceipt({
      orderId: 'o-1', buyerId: 'b-1', sellerId: 's-1', currency: 'EUR', total: 9_000, createdAt: '2026-01-01T10:00:00.000Z',
      items: [{ productId: 'p', sellerId: 's-1', title: 'Oak shelf', unitPrice: 4_500, quantity: 2 }]
    })
    expect(text).to.contain('Order:  o-1')
    expect(text).to.match(/2 x Oak shelf\s+90\.00 EUR/)
    expect(text).to.match(/TOTAL\s+90\.00 EUR/)
  })

  describe('with --out', function () {
    const order = {
      orderId: 'order-77', buyerId: 'b-1', sellerId: 's-1', currency: 'EUR', total: 4_500, createdAt: '2026-01-01T10:00:00.000Z',
      items: [{ productId: 'p', sellerId: 's-1', title: 'Oak shelf', unitPrice: 4_500, quantity: 1 }]
    }
    let gateway: Server
    let streams: ServerResponse[]
    let out: string

    // A stand-in for the gateway's two endpoints the appliance uses: one order on the stream, receipts accepted.
    before(async () => {
      streams = []
      out = mkdtempSync(join(tmpdir(), 'bazaar-receipts-'))
      gateway = createServer((req, res) => {
        if (req.url === '/events') {
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          res.write(`id: 1\nevent: order\ndata: ${JSON.stringify(order)}\n\n`)
          streams.push(res)
          return
        }
        req.resume()
        req.on('end', () => {
          res.writeHead(req.url === '/receipts' && req.method === 'POST' ? 201 : 404, { 'content-type': 'application/json' })
          res.end('{}')
        })
      })
      await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve))
    })

    after(async () => {
      for (const res of streams) res.destroy()
      await new Promise((resolve) => gateway?.close(resolve))
      rmSync(out, { recursive: true, force: true })
    })

    it('writes one file per receipt and says so in one line on stderr', async () => {
      const stderr = new PassThrough()
      let said = ''
      stderr.on('data', (chunk: Buffer) => (said += chunk.toString()))
      const appliance = runAppliance({ url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, token: 't', out, stderr })
      try {
        await nextEvent(appliance, 'acked', { timeoutMs: 10_000 })
      } finally {
        await appliance.stop()
      }
      const file = join(out, 'order-77.txt')
      expect(readFileSync(file, 'utf8')).to.contain('Order:  order-77')
      const lines = said.split('\n').filter((line) => line.includes('order-77'))
      expect(lines, said).to.deep.equal([`[appliance] printed order order-77 (1 line) to ${file}`])
    })
  })
})
