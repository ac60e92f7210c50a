import { call as jsonCall } from '../shared/testing/http.ts'

/** A small JSON client for the public origin; failures come back as values, never throw. */
export interface Answer<T = any> {
  status: number
  body?: T
  error?: string
}

export async function call<T = any>(base: string, method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<Answer<T>> {
  try {
    const { status, body: answer } = await jsonCall<T>(base, method, path, { body, token, headers, signal: AbortSignal.timeout(10_000) })
    return { status, body: answer }
  } catch (err) {
    // refused or cut connections are what faults look like from outside
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
