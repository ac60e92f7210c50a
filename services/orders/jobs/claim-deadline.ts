import { Type } from '@feathersjs/typebox'
import type { Knex } from 'knex'
import { writeOutbox } from '../../../shared/bus/outbox.ts'
import { CLAIM_ESCALATED } from '../../../shared/contracts/order.ts'
import type { ServiceApp } from '../../../shared/feathers/declarations.ts'
import { serviceConfig } from '../../../shared/feathers/service-config.ts'
import { isoTimestamp } from '../../../shared/feathers/timestamps.ts'

/** The delayed job that escalates a claim no seller answered in time; keyed by the claim's id. */
export const CLAIM_DEADLINE = 'claim-deadline'

const claimDeadlinePayload = Type.Object({ claimId: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/** Sets the claim's deadline, in the transaction that opens it: no claim without one, no deadline without its claim. */
export async function scheduleClaimDeadline(app: ServiceApp, trx: Knex.Transaction, claimId: string): Promise<void> {
  const delayMs = serviceConfig(app, 'orders').claimResponseTimeoutMs
  await app.get('jobs').schedule(trx, CLAIM_DEADLINE, { key: claimId, runAt: { delayMs }, payload: { claimId } })
}

/** Drops the deadline of a claim that was answered or closed, in that change's transaction. */
export async function cancelClaimDeadline(app: ServiceApp, trx: Knex.Transaction, claimId: string): Promise<void> {
  await app.get('jobs').cancel(trx, CLAIM_DEADLINE, claimId)
}

/**
 * The deadline's handler: a claim still `open` becomes `escalated`, and claim.escalated is written in the
 * job's transaction (so it is published iff the escalation commits, once). The row is locked first: an
 * answer committing at the same moment either comes first (the claim is no longer open: nothing to do) or
 * waits and then finds the claim escalated (409). Answered or closed claims also cancel their deadline;
 * the status check is what makes a deadline that raced with its cancellation harmless.
 */
export function claimDeadlines(app: ServiceApp): void {
  const schema = app.get('schema')
  const identity = { namespace: app.get('namespace'), appId: app.get('service'), schema }
  app.get('jobs').define(CLAIM_DEADLINE, {
    payload: claimDeadlinePayload,
    handler: async (job, trx) => {
      const claims = () => trx.withSchema(schema).table('claims')
      const claim = await claims().where({ id: job.payload.claimId }).forUpdate().first()
      if (claim?.status !== 'open') return
      const escalatedAt = isoTimestamp()
      await claims().where({ id: claim.id }).update({ status: 'escalated', escalatedAt })
      await writeOutbox(trx, identity, CLAIM_ESCALATED, {
        claimId: claim.id,
        orderId: claim.orderId,
        buyerId: claim.buyerId,
        reason: claim.reason,
        openedAt: isoTimestamp(claim.openedAt),
        escalatedAt
      })
    }
  })
}
