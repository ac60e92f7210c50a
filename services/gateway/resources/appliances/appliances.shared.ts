import type { Appliance, ApplianceData, CreatedAppliance } from './appliances.schema.ts'

export type { Appliance, ApplianceData, CreatedAppliance }

export const appliancePath = 'appliances'
export const applianceMethods = ['find', 'create', 'remove'] as const
