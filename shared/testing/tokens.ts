import jwt from 'jsonwebtoken'
import { randomUUID } from 'node:crypto'
import { jwtOptions } from '../feathers/auth.ts'
import { readEnv } from '../config/env.ts'

export interface TestIdentity {
  id: string
  role: 'buyer' | 'seller' | 'admin'
  email: string
  name: string
  token: string
}

/**
 * A user token signed exactly as the users service signs them, for tests of
 * services that only verify tokens (catalog, orders, ...).
 */
export function identity(role: TestIdentity['role'], name = `${role}-${randomUUID().slice(0, 6)}`, secret = readEnv().jwtSecret): TestIdentity {
  const id = randomUUID()
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.com`
  const token = jwt.sign({ role, email, name }, secret, {
    subject: id,
    audience: jwtOptions.audience,
    issuer: jwtOptions.issuer,
    algorithm: jwtOptions.algorithm,
    expiresIn: jwtOptions.expiresIn,
    header: { typ: 'access', alg: jwtOptions.algorithm }
  })
  return { id, role, email, name, token }
}
