/** A JSON response as a test looks at it. */
export interface JsonResponse<T = any> {
  status: number
  body: T
  headers: Headers
}

export interface JsonRequest {
  /** sent as JSON; a string is sent as it is (malformed bodies) */
  body?: unknown
  /** a user's access token, sent as `Authorization: Bearer` */
  token?: string
  headers?: Record<string, string>
  /** gives up (rejects) when aborted, e.g. AbortSignal.timeout(ms) */
  signal?: AbortSignal
}

/** Calls a service's REST API with JSON in and out. */
export async function call<T = any>(baseUrl: string, method: string, path: string, request: JsonRequest = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers }
  if (request.body !== undefined) headers['content-type'] ??= 'application/json'
  if (request.token) headers.authorization = `Bearer ${request.token}`
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
    signal: request.signal
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON: the text as it is
  }
  return { status: response.status, body: body as T, headers: response.headers }
}
