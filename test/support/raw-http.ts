import { request } from 'node:http'

export interface RawRequest {
  method: string
  path: string
  headers?: Record<string, string>
  /** exact bytes; several chunks are sent without Content-Length (chunked) unless one is given */
  body?: Buffer | Buffer[]
  /** send `Expect: 100-continue` and send the body only once the server says 100 */
  expectContinue?: boolean
  timeoutMs?: number
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** the body as JSON, or undefined when it is not JSON */
  body: any
  /** whether the server answered 100 Continue before its final answer */
  continued: boolean
}

/**
 * One HTTP request with exactly the bytes and headers given: what fetch will
 * not send (invalid UTF-8, a lying Content-Encoding, `Expect: 100-continue`,
 * chunked bodies). A connection the server resets before answering rejects.
 */
export function rawRequest(base: string, spec: RawRequest): Promise<RawResponse> {
  const chunks = spec.body === undefined ? [] : Array.isArray(spec.body) ? spec.body : [spec.body]
  const headers: Record<string, string> = { ...spec.headers }
  if (!Array.isArray(spec.body) && spec.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = String(spec.body.length)
  }
  if (spec.expectContinue) headers.expect = '100-continue'
  return new Promise((resolve, reject) => {
    let continued = false
    const req = request(new URL(spec.path, base), { method: spec.method, headers, timeout: spec.timeoutMs ?? 15_000 })
    const sendBody = () => {
      for (const chunk of chunks) req.write(chunk)
      req.end()
    }
    req.on('continue', () => {
      continued = true
      sendBody()
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${spec.method} ${spec.path} in time`)))
    req.on('error', reject)
    req.on('response', (res) => {
      const parts: Buffer[] = []
      res.on('data', (chunk: Buffer) => parts.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let body: unknown
        try {
          body = text ? JSON.parse(text) : undefined
        } catch {
          body = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, continued })
        // The server may have answered before the body was sent (a refused 100-continue): nothing more to send.
        req.destroy()
      })
    })
    if (!spec.expectContinue) sendBody()
    else req.flushHeaders()
  })
}
