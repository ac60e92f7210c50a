import { Type, type Static } from '@feathersjs/typebox'
import { retryConfigProperties } from '../../shared/feathers/consumer-config.ts'

export const chatConfigSchema = Type.Object({ ...retryConfigProperties }, { $id: 'ChatConfig', additionalProperties: false })
export type ChatConfig = Static<typeof chatConfigSchema>
