import { Forbidden } from '@feathersjs/errors'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { caughtUpReferenceData } from '../../../../shared/kv/reference.ts'

/** Before create: claims can be switched off platform-wide (flag `claims`, read from memory on every instance). */
export async function claimsSwitchedOn(context: HookContext) {
  const data = await caughtUpReferenceData(context.app)
  if (!data.isOn('claims')) throw new Forbidden('Claims are switched off on this platform for now')
}
