import { USER_SESSIONS_REVOKED, type UserSessionsRevoked } from '../../../shared/contracts/index.ts'
import type { HookContext } from '../../../shared/feathers/declarations.ts'
import { emit } from '../../../shared/feathers/transaction.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'

/**
 * After hook (inside `transactional()`): ends every session of a user. Their session version is
 * raised in the method's transaction, so every token signed before is refused from the commit on
 * (here at once, by `refuseEndedSession`), and `user.sessions_revoked` is written to the outbox in the
 * same transaction, for the gateway (and anyone else verifying tokens) to refuse them too.
 * `userId` says whose: the result's `id` for a patch, `user.id` for a logout.
 */
export function endSessions(reason: UserSessionsRevoked['reason'], userId: (context: HookContext) => string) {
  return async (context: HookContext) => {
    const trx = context.params.transaction!.trx
    const id = userId(context)
    const [row] = await trx(`${context.app.get('schema')}.users`).where({ id }).increment('sessionVersion', 1).returning('sessionVersion')
    if (!row) return
    await emit(context, USER_SESSIONS_REVOKED, { userId: id, sessionVersion: row.sessionVersion, reason, revokedAt: isoTimestamp() })
  }
}
