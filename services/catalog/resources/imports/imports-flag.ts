import { Forbidden } from '@feathersjs/errors'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { caughtUpReferenceData } from '../../../../shared/kv/reference.ts'

/** Before create: bulk imports can be switched off platform-wide (flag `imports`, read from memory on every instance). */
export async function importsSwitchedOn(context: HookContext) {
  const data = await caughtUpReferenceData(context.app)
  if (!data.isOn('imports')) throw new Forbidden('Bulk imports are switched off on this platform for now')
}
