import { randomUUID } from 'node:crypto'
import { call } from '../../shared/testing/http.ts'
import { waitFor } from '../../shared/testing/wait.ts'

export interface Actor {
  label: string
  id?: string
  email?: string
  token?: string
}

/** A JSON call through the public origin (shared/testing/http.ts), in the argument order these tests use. */
export function json(base: string, method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) {
  return call(base, method, path, { body, token, headers })
}

/** Registers a user through the public origin and logs in. */
export async function register(base: string, role: 'buyer' | 'seller', label: string): Promise<Actor> {
  const email = `${label.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 6)}@example.com`
  const password = `secret-${randomUUID()}`
  const created = await json(base, 'POST', '/users', { email, password, name: label, role })
  if (created.status !== 201) throw new Error(`register ${label}: ${created.status} ${JSON.stringify(created.body)}`)
  return { label, id: created.body.id, email, token: await login(base, email, password) }
}

export async function login(base: string, email: string, password: string): Promise<string> {
  const auth = await json(base, 'POST', '/authentication', { strategy: 'local', email, password })
  if (auth.status !== 201) throw new Error(`login ${email}: ${auth.status} ${JSON.stringify(auth.body)}`)
  return auth.body.accessToken
}

/** Waits until a GET answers 200 (an effect that arrives through events). */
export async function eventually(base: string, path: string, token: string | undefined, what: string, timeoutMs = 15_000) {
  return waitFor(async () => {
    const answer = await json(base, 'GET', path, undefined, token)
    return answer.status === 200 ? answer.body : undefined
  }, { timeoutMs, what })
}
