import { NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { EventStore } from '../../history/store.ts'
import type { ApplianceRecord } from '../../sse/credentials.ts'
import type { Receipt, ReceiptData } from './receipts.schema.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'

declare module '@feathersjs/feathers' {
  interface Params {
    /** the appliance whose token authenticated the call */
    appliance?: ApplianceRecord
  }
}

/** `POST /receipts`: idempotent; acknowledging twice answers the first acknowledgement. */
export class ReceiptService {
  constructor(private readonly store: EventStore) {}

  async create(data: ReceiptData, params: Params): Promise<Receipt> {
    const appliance = params.appliance!
    const acked = await this.store.acknowledge(appliance, data.orderId)
    if (!acked) throw new NotFound(`No order ${data.orderId} for this appliance's seller`)
    return { applianceId: appliance.id, orderId: data.orderId, ackedAt: isoTimestamp(acked.ackedAt) }
  }
}
