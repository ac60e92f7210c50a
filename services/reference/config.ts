import { Type, type Static } from '@feathersjs/typebox'

export const referenceConfigSchema = Type.Object(
  {
    /** KV_SNAPSHOT_INTERVAL: a snapshot of the stores into their stream at least this often while anything changed (ms; `30s`, `5m`) */
    snapshotIntervalMs: Type.Integer({ minimum: 1_000, default: 300_000 }),
    /** KV_SNAPSHOT_MIN_CHANGES: and as soon as this many messages (or as many as the stores hold keys, if more) came since the last */
    snapshotMinChanges: Type.Integer({ minimum: 1, default: 1_000 })
  },
  { $id: 'ReferenceConfig', additionalProperties: false }
)
export type ReferenceConfig = Static<typeof referenceConfigSchema>
