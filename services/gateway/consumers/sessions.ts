import { USER_SESSIONS_REVOKED } from '../../../shared/contracts/index.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { sessionsChannel } from '../live/sessions.ts'
import { sessionsConsumer as declaration } from '../topology.ts'

/**
 * Records `user.sessions_revoked` from the durable queue (one instance takes
 * each message) and tells every instance, by NOTIFY in the same transaction.
 * Versions only grow and the highest is kept, so a redelivery or an older
 * message arriving late changes nothing: no inbox needed.
 */
export function sessionsConsumer(app: ServiceApp): void {
  const db = app.get('db')
  const schema = app.get('schema')
  app.get('bus').consumer({
    ...declaration,
    handlers: {
      [USER_SESSIONS_REVOKED]: async (message) => {
        const { userId, sessionVersion } = message.payload
        await db.transaction(async (trx) => {
          const { rows } = await trx.raw(
            `insert into ??.session_revocations (user_id, session_version) values (?, ?)
             on conflict (user_id) do update set session_version = greatest(session_revocations.session_version, excluded.session_version), updated_at = now()
             returning session_version`,
            [schema, userId, sessionVersion]
          )
          await trx.raw('select pg_notify(?, ?)', [sessionsChannel(schema), JSON.stringify({ userId, sessionVersion: rows[0].session_version })])
        })
      }
    }
  })
}
