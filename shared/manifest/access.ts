import { requireRole } from '../feathers/auth.ts'
import type { HookContext } from '../feathers/declarations.ts'
import { rolesOf, type ResourceManifest } from './resource.ts'

/**
 * Before hook: the role check of the called method, as its manifest declares
 * it, so the documented rule and the enforced one are one declaration.
 * A method without declared roles is a mistake, not an open door: it throws.
 */
export function requireManifestRole<M extends string>(manifest: ResourceManifest<M>) {
  const checks = new Map(manifest.methods.filter((m) => manifest.access[m].roles?.length).map((m) => [m as string, requireRole(...rolesOf(manifest, m))]))
  return async (context: HookContext) => {
    const check = checks.get(context.method)
    if (!check) throw new Error(`manifest of /${manifest.path}: ${context.method} declares no roles`)
    await check(context)
  }
}
