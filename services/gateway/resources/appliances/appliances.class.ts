import { randomUUID } from 'node:crypto'
import { NotFound } from '@feathersjs/errors'
import type { Params } from '@feathersjs/feathers'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { newApplianceToken } from '../../sse/credentials.ts'
import { revocationChannel } from '../../live/revocations.ts'
import type { StreamHub } from '../../live/hub.ts'
import { isUuid } from '../../../../shared/feathers/validation.ts'
import { pageOf } from '../../../../shared/feathers/list-query.ts'
import type { Appliance, ApplianceData, ApplianceQuery, CreatedAppliance } from './appliances.schema.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'

interface ApplianceRow {
  id: string
  seller_id: string
  name: string
  created_at: Date
}

const toAppliance = (row: ApplianceRow): Appliance => ({
  id: row.id,
  sellerId: row.seller_id,
  name: row.name,
  createdAt: isoTimestamp(row.created_at)
})

/** A seller's appliances: created with a one-time token (only its hash is kept), listed, revoked. */
export class ApplianceService {
  constructor(
    private readonly app: ServiceApp,
    private readonly hub: StreamHub
  ) {}

  private get table() {
    return this.app.get('db')(`${this.app.get('schema')}.appliances`)
  }

  async find(params: Params<ApplianceQuery>): Promise<Appliance[]> {
    const rows = await this.table.where({ seller_id: params.caller!.id }).whereNull('revoked_at').orderBy('created_at')
    return pageOf(rows.map(toAppliance), params.query)
  }

  async create(data: ApplianceData, params: Params): Promise<CreatedAppliance> {
    const { token, hash } = newApplianceToken()
    const [row] = await this.table
      .insert({ id: randomUUID(), seller_id: params.caller!.id, name: data.name, token_hash: hash })
      .returning(['id', 'seller_id', 'name', 'created_at'])
    return { ...toAppliance(row), token }
  }

  /** Revokes: the token stops working and open streams of this appliance end, on every gateway instance. */
  async remove(id: string | number | null, params: Params): Promise<Appliance> {
    if (!isUuid(id)) throw new NotFound(`No appliance ${String(id)}`)
    const schema = this.app.get('schema')
    const row = await this.app.get('db').transaction(async (trx) => {
      const [revoked] = await trx(`${schema}.appliances`)
        .where({ id, seller_id: params.caller!.id })
        .whereNull('revoked_at')
        .update({ revoked_at: trx.fn.now() })
        .returning(['id', 'seller_id', 'name', 'created_at'])
      if (revoked) await trx.raw('select pg_notify(?, ?)', [revocationChannel(schema), id])
      return revoked as ApplianceRow | undefined
    })
    if (!row) throw new NotFound(`No appliance ${id}`)
    this.hub.endAppliance(id)
    return toAppliance(row)
  }
}
