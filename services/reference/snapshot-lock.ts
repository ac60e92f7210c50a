import type { ServiceApp } from '../../shared/feathers/declarations.ts'

/**
 * One instance of the reference service writes a snapshot at a time: the
 * work runs inside a transaction holding an advisory lock; an instance that
 * cannot take it at once leaves the snapshot to the one that has it.
 */
export function exclusively(app: ServiceApp) {
  return async (work: () => Promise<void>): Promise<boolean> =>
    app.get('db').transaction(async (trx) => {
      const { rows } = await trx.raw('select pg_try_advisory_xact_lock(hashtext(?)) as locked', [`${app.get('schema')}.kv-snapshot`])
      if (!rows[0]?.locked) return false
      await work()
      return true
    })
}
