import { Type, type Static } from '@feathersjs/typebox'
import { Ajv } from '@feathersjs/schema'

/**
 * What the owner of a feed writes into its streams besides the changes
 * themselves (which are ordinary events from its outbox). A snapshot is the
 * owner's replica at one offset of the data stream, in parts; the pointer,
 * in the pointer stream, is written once every part is confirmed.
 */
export const KV_MESSAGE_HEADER = 'x-bazaar-kv'

/** Entries per snapshot part: about 100 kB for small values, far below any broker's message size limit. */
export const SNAPSHOT_PART_ENTRIES = 1000

const entrySchema = Type.Tuple([
  Type.String(), // store
  Type.String(), // key
  Type.Integer({ minimum: 1 }), // version
  Type.Unknown() // value, null for a tombstone
])

export const snapshotPartSchema = Type.Object(
  {
    snapshotId: Type.String(),
    /** the last offset of the data stream the owner's replica had applied: readers start right after it */
    asOf: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    part: Type.Integer({ minimum: 0 }),
    parts: Type.Integer({ minimum: 1 }),
    entries: Type.Array(entrySchema)
  },
  { additionalProperties: false }
)
export type SnapshotPart = Static<typeof snapshotPartSchema>

export const snapshotPointerSchema = Type.Object(
  {
    snapshotId: Type.String(),
    asOf: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    parts: Type.Integer({ minimum: 1 }),
    keys: Type.Integer({ minimum: 0 }),
    takenAt: Type.String()
  },
  { additionalProperties: false }
)
export type SnapshotPointer = Static<typeof snapshotPointerSchema>

const ajv = new Ajv()
const partValidator = ajv.compile(snapshotPartSchema)
const pointerValidator = ajv.compile(snapshotPointerSchema)

/** The body as a snapshot part or pointer, or undefined when it is not one (never trusted blindly: it came off the broker). */
export function readSnapshotPart(content: Buffer): SnapshotPart | undefined {
  const value = parse(content)
  return partValidator(value) ? (value as SnapshotPart) : undefined
}

export function readSnapshotPointer(content: Buffer): SnapshotPointer | undefined {
  const value = parse(content)
  return pointerValidator(value) ? (value as SnapshotPointer) : undefined
}

export function parse(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'))
  } catch {
    return undefined
  }
}
