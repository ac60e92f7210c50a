import type { MaintenanceNotice, MaintenanceNoticeData } from './maintenance-notices.schema.ts'

export type { MaintenanceNotice, MaintenanceNoticeData }

export const maintenanceNoticePath = 'maintenance-notices'
export const maintenanceNoticeMethods = ['find', 'create'] as const
