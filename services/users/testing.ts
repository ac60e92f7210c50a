import { randomUUID } from 'node:crypto'
import { call } from '../../shared/testing/http.ts'

/** A user registered through `POST /users` and logged in, for tests. */
export interface RegisteredUser {
  id: string
  email: string
  name: string
  role: 'buyer' | 'seller'
  password: string
  token: string
}

/** Registers a new user (a fresh email each time) and logs them in. */
export async function registerUser(
  usersUrl: string,
  fields: { role?: 'buyer' | 'seller'; name?: string; emailDomain?: string } = {}
): Promise<RegisteredUser> {
  const tag = randomUUID().slice(0, 8)
  const role = fields.role ?? 'buyer'
  const name = fields.name ?? `${role} ${tag}`
  const email = `${role}.${tag}@${fields.emailDomain ?? 'example.com'}`
  const password = `pw-${randomUUID()}`
  const created = await call(usersUrl, 'POST', '/users', { body: { email, password, name, role } })
  if (created.status !== 201) throw new Error(`registering ${email}: ${created.status} ${JSON.stringify(created.body)}`)
  return { id: created.body.id, email, name, role, password, token: await logIn(usersUrl, email, password) }
}

export async function logIn(usersUrl: string, email: string, password: string): Promise<string> {
  const answer = await call(usersUrl, 'POST', '/authentication', { body: { strategy: 'local', email, password } })
  if (answer.status !== 201) throw new Error(`logging in ${email}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body.accessToken
}
