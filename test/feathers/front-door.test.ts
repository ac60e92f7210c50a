import { expect } from 'chai'
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { NotAuthenticated } from '@feathersjs/errors'
import { errorBody, requestIdOf, sendError } from '../../shared/http/front-door.ts'
import { routeRequests } from '../../shared/http/route.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function get(server: Server, path: string): Promise<{ res: IncomingMessage; body: string } | { error: Error }> {
  const { port } = server.address() as AddressInfo
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ res, body }))
      res.on('error', (error) => resolve({ error }))
    })
      .on('error', (error) => resolve({ error }))
      .end()
  })
}

describe('the front door: request ids and error bodies, in one place', () => {
  it("takes a client's sane X-Request-Id and replaces any other with a new one", () => {
    expect(requestIdOf({ 'x-request-id': 'req-abc.1:2@x' })).to.equal('req-abc.1:2@x')
    for (const given of ['', 'has space', 'x'.repeat(129), 'new\nline', '<script>']) expect(requestIdOf({ 'x-request-id': given })).to.match(uuid)
    expect(requestIdOf({})).to.match(uuid)
    expect(requestIdOf({})).not.to.equal(requestIdOf({}))
  })

  it("writes Feathers' error body: name, message, code, className, data", () => {
    expect(errorBody(new NotAuthenticated('no token', { why: 'none' }))).to.deep.equal({
      name: 'NotAuthenticated',
      message: 'no token',
      code: 401,
      className: 'not-authenticated',
      data: { why: 'none' }
    })
  })

  describe('on a plain node response', () => {
    let server: Server
    before(async () => {
      server = createServer(
        routeRequests(
          [
            { matches: (req) => req.url === '/refused', listener: (_req, res) => sendError(res, new NotAuthenticated('no token')) },
            {
              matches: (req) => req.url === '/begun',
              listener: (_req, res) => {
                res.writeHead(200, { 'content-type': 'text/plain' })
                res.write('half an answer')
                setImmediate(() => sendError(res, new NotAuthenticated('too late')))
              }
            }
          ],
          (_req, res) => res.end('otherwise')
        )
      )
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    })
    after(async () => {
      server?.closeAllConnections()
      await new Promise((resolve) => server?.close(resolve))
    })

    it('answers the error with its status and JSON body', async () => {
      const answer = await get(server, '/refused')
      if ('error' in answer) throw answer.error
      expect(answer.res.statusCode).to.equal(401)
      expect(answer.res.headers['content-type']).to.equal('application/json; charset=utf-8')
      expect(JSON.parse(answer.body)).to.deep.include({ name: 'NotAuthenticated', code: 401, className: 'not-authenticated' })
    })

    it('cuts a response already begun rather than appending a body to it', async () => {
      const answer = await get(server, '/begun')
      expect('error' in answer ? answer.error.message : 'ended normally').to.match(/aborted|socket hang up|ECONNRESET/)
    })

    it('routes a request to the first matching route, the rest to the fallback', async () => {
      const answer = await get(server, '/anything')
      if ('error' in answer) throw answer.error
      expect(answer.body).to.equal('otherwise')
    })
  })
})
