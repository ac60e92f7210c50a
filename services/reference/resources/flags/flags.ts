import { FLAG_CHANGED, flagNamePattern, type Flag } from '../../../../shared/contracts/reference.ts'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { referenceResource } from '../../entries.ts'
import { flagDataValidator } from './flags.schema.ts'
import { flagManifest } from './flags.manifest.ts'
import { flagPath } from './flags.shared.ts'

export const flags = (app: ServiceApp) =>
  referenceResource<Flag>(app, {
    path: flagPath,
    of: { store: 'flags', keyField: 'name' },
    manifest: flagManifest,
    routingKey: FLAG_CHANGED,
    keyPattern: flagNamePattern,
    dataValidator: flagDataValidator
  })
