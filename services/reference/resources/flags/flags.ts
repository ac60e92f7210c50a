import type { Flag } from '../../../../shared/contracts/reference.ts'
import { referenceStore } from '../../entries.ts'
import { flagDataValidator } from './flags.schema.ts'
import { flagManifest } from './flags.manifest.ts'

/** `/flags`: anyone reads, admins upsert and remove; each write one change event with the key's next version. */
export const flags = referenceStore<Flag>('flags', flagManifest, flagDataValidator)
