/** A small JSON client for the public origin; failures come back as values, never throw. */
export interface Answer<T = any> {
  status: number
  body?: T
  error?: string
}

export async function call<T = any>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<Answer<T>> {
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {})
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000)
    })
    const text = await response.text()
    let parsed: any
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    return { status: response.status, body: parsed }
  } catch (err) {
    return { status: 0, error: (err as Error).message }
  }
}

/** Calls until it succeeds (2xx) or the bound runs out: for set-up steps that must happen. */
export async function callUntilOk<T = any>(base: string, method: string, path: string, body?: unknown, token?: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answer = await call<T>(base, method, path, body, token)
    if (answer.status >= 200 && answer.status < 300) return answer.body as T
    if (Date.now() > deadline) throw new Error(`${method} ${path} kept failing: ${answer.status} ${answer.error ?? JSON.stringify(answer.body)}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
