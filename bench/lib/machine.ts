import os from 'node:os'
import type { Management } from '../../shared/testing/broker.ts'
import type { Knex } from 'knex'

export interface MachineInfo {
  cpus: number
  cpuModel: string
  memoryGb: number
  os: string
  node: string
  rabbitmq?: string
  erlang?: string
  postgres?: string
  loadAverageAtStart: number[]
}

/** What the figures were measured on: they only mean something next to it. */
export async function machineInfo(management: Management, db: Knex): Promise<MachineInfo> {
  const overview = await management
    .request<{ rabbitmq_version?: string; erlang_version?: string }>('GET', '/api/overview')
    .catch(() => undefined)
  const pg = await db.raw<{ rows: Array<{ server_version: string }> }>('show server_version').catch(() => undefined)
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    rabbitmq: overview?.rabbitmq_version,
    erlang: overview?.erlang_version,
    postgres: pg?.rows[0]?.server_version,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100)
  }
}
