import type { Knex } from 'knex'

/**
 * chat's projection of users (`user_names`): who exists, and their names.
 * users never gets asked: rows come from `user.registered` and `user.updated`
 * events (newest `updatedAt` wins) and, for a user chat has not heard of yet,
 * from their token (signed by users, so they exist).
 */

/** A name from a caller's token: only fills a gap, never overrides what an event said. */
export async function learnNameFromToken(db: Knex, schema: string, userId: string, name: string): Promise<void> {
  await db.withSchema(schema).table('user_names').insert({ userId, name, updatedAt: null }).onConflict('userId').ignore()
}

/** A name from a `user.updated` event: kept unless chat already has a newer one. */
export async function projectName(db: Knex, schema: string, change: { userId: string; name: string; updatedAt: string }): Promise<void> {
  await db
    .withSchema(schema)
    .table('user_names')
    .insert(change)
    .onConflict('userId')
    .merge(['name', 'updatedAt'])
    .where((newer) => newer.whereNull('user_names.updatedAt').orWhere('user_names.updatedAt', '<', change.updatedAt))
}

/** Which of these user ids chat knows to exist. */
export async function knownUsers(db: Knex, schema: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set()
  const rows: Array<{ userId: string }> = await db.withSchema(schema).table('user_names').whereIn('userId', userIds).select('userId')
  return new Set(rows.map((row) => row.userId))
}
