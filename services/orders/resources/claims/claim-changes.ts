import { BadRequest, Conflict, Forbidden, NotFound } from '@feathersjs/errors'
import { CLAIM_ANSWERED, CLAIM_CLOSED } from '../../../../shared/contracts/order.ts'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { emit } from '../../../../shared/feathers/transaction.ts'
import { cancelClaimDeadline } from '../../jobs/claim-deadline.ts'
import type { Claim, ClaimPatch } from './claims.schema.ts'

/**
 * Before `patch`: one change at a time (answer or close), on a claim that exists (404), by the party
 * whose change it is (403: a seller of the order answers, its buyer closes), in a state that allows it
 * (409: only an open claim is answered; a closed claim stays closed). Answering or closing drops the
 * claim's deadline. The claim's row is locked for the rest of the transaction, so a deadline firing at
 * the same moment either escalated it before (409 for an answer) or finds it no longer open.
 */
export async function checkClaimChange(context: HookContext) {
  const patch = context.data as ClaimPatch
  if (patch.response !== undefined && patch.status !== undefined) {
    throw new BadRequest('A change either answers a claim or closes it', { response: 'not with status', status: 'not with response' })
  }
  const trx = context.params.transaction!.trx
  const schema = context.app.get('schema')
  // The deadline job first, the claim second: the job runner locks in that order (it holds the job while
  // its handler locks the claim), so taking them the other way round could deadlock with a deadline that
  // is due. A refused change rolls the cancellation back with the rest.
  await cancelClaimDeadline(context.app, trx, String(context.id))
  const claim = await trx.withSchema(schema).table('claims').where({ id: context.id }).forUpdate().first('status', 'orderId', 'buyerId')
  if (!claim) throw new NotFound(`No claim ${String(context.id)}`)
  const caller = context.params.caller!
  if (patch.response !== undefined) {
    const order = await trx.withSchema(schema).table('orders').where({ id: claim.orderId }).first('sellerIds')
    if (caller.role !== 'seller' || !order?.sellerIds.includes(caller.id)) throw new Forbidden('Only a seller of the claimed order may answer the claim')
    if (claim.status !== 'open') throw new Conflict(`The claim is ${claim.status}: only an open claim can be answered`, { status: claim.status })
    return
  }
  if (caller.role !== 'buyer' || claim.buyerId !== caller.id) throw new Forbidden('Only the buyer of the order may close the claim')
  if (claim.status === 'closed') throw new Conflict('The claim is already closed', { status: claim.status })
}

/** After `patch`, in its transaction: claim.answered (with the answering seller) or claim.closed. */
export async function emitClaimChange(context: HookContext) {
  const claim = context.result as Claim
  if (claim.status === 'answered') {
    await emit(context, CLAIM_ANSWERED, {
      claimId: claim.id,
      orderId: claim.orderId,
      buyerId: claim.buyerId,
      sellerId: context.params.caller!.id,
      response: claim.response!,
      answeredAt: isoTimestamp(claim.answeredAt!)
    })
    return
  }
  await emit(context, CLAIM_CLOSED, { claimId: claim.id, orderId: claim.orderId, buyerId: claim.buyerId, closedAt: isoTimestamp(claim.closedAt!) })
}
