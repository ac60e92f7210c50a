import { createHash, randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import { readUserToken } from '../../../shared/feathers/auth.ts'
import type { Principal } from '../history/audiences.ts'

/**
 * Appliance tokens: 32 random bytes behind a recognisable prefix. Only their
 * sha-256 is stored (a token this random needs no salt or slow hash, and the
 * digest can be looked up directly); the token is shown once, at creation.
 */
const prefix = 'bzapp_'

export function newApplianceToken(): { token: string; hash: string } {
  const token = prefix + randomBytes(32).toString('base64url')
  return { token, hash: hashToken(token) }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export interface ApplianceRecord {
  id: string
  sellerId: string
  name: string
  createdAt: Date
}

/** The live (not revoked) appliance a token belongs to. */
export async function findAppliance(db: Knex, schema: string, token: string): Promise<ApplianceRecord | undefined> {
  if (!token.startsWith(prefix) || token.length > 100) return undefined
  const row = await db(`${schema}.appliances`).where({ token_hash: hashToken(token) }).whereNull('revoked_at').first('id', 'seller_id', 'name', 'created_at')
  return row && { id: row.id, sellerId: row.seller_id, name: row.name, createdAt: new Date(row.created_at) }
}

/** Whom a stream's credentials name, and, for a user's token, until when and for which session version. */
export interface Identified {
  principal: Principal
  appliance?: ApplianceRecord
  expiresAt?: number
  sessionVersion?: number
}

/** Who a stream's credentials belong to: a user's JWT or an appliance token; undefined if neither. */
export async function identify(
  token: string | undefined,
  { db, schema, jwtSecret }: { db: Knex; schema: string; jwtSecret: string }
): Promise<Identified | undefined> {
  if (!token) return undefined
  if (token.startsWith(prefix)) {
    const appliance = await findAppliance(db, schema, token)
    return appliance && { principal: { kind: 'appliance', applianceId: appliance.id, sellerId: appliance.sellerId }, appliance }
  }
  const claims = readUserToken(token, jwtSecret)
  return (
    claims && {
      principal: { kind: 'user', userId: claims.caller.id, role: claims.caller.role },
      expiresAt: claims.expiresAt,
      sessionVersion: claims.sessionVersion
    }
  )
}
