import { FLAG_CHANGED } from '../../../../shared/contracts/reference.ts'
import { referenceManifest } from '../../entries.ts'
import { flagPath } from './flags.shared.ts'

/** `/flags`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const flagManifest = referenceManifest(flagPath, FLAG_CHANGED, 'flag')
