import type { Knex } from 'knex'

/** A user as notifications knows them, from user.registered and user.updated. */
export interface KnownUser {
  id: string
  email: string
  name: string
  role: 'buyer' | 'seller' | 'admin'
  timeZone: string
  /** when the event it comes from happened */
  updatedAt: string
}

/** Writes the user, unless what is stored came from a later event (events of one user may arrive out of order). */
export async function rememberUser(trx: Knex.Transaction, schema: string, user: KnownUser): Promise<void> {
  await trx
    .withSchema(schema)
    .table('users')
    .insert(user)
    .onConflict('id')
    .merge()
    .where('users.updatedAt', '<=', user.updatedAt)
}

/** One user notifications knows of, if it has learned of them. */
export function knownUser(trx: Knex.Transaction, schema: string, id: string): Promise<KnownUser | undefined> {
  return trx.withSchema(schema).table('users').where({ id }).first()
}

/** Every admin notifications knows of. */
export function admins(trx: Knex.Transaction, schema: string): Promise<KnownUser[]> {
  return trx.withSchema(schema).table('users').where({ role: 'admin' }).orderBy('id')
}

/** The time zones sellers are in (each has a digest schedule). */
export async function sellerTimeZones(db: Knex, schema: string): Promise<string[]> {
  const rows: Array<{ timeZone: string }> = await db.withSchema(schema).table('users').where({ role: 'seller' }).distinct('timeZone')
  return rows.map((row) => row.timeZone)
}
