import http from 'node:http'

/** A raw stream: its status, its body so far, and whether the server has ended it. */
export function rawStream(origin: string, token: string) {
  const state = { status: 0, body: '', ended: false, request: undefined as unknown as http.ClientRequest }
  state.request = http.get(new URL('/events', origin), { headers: { authorization: `Bearer ${token}` } }, (response) => {
    state.status = response.statusCode ?? 0
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => (state.body += chunk))
    response.on('end', () => (state.ended = true))
    response.on('close', () => (state.ended = true))
  })
  state.request.on('error', () => (state.ended = true))
  return state
}
