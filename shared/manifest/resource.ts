import feathersModule from '@feathersjs/feathers'
import type { RoutingKey } from '../contracts/index.ts'
import type { Caller } from '../feathers/declarations.ts'

export type Role = Caller['role']

/** Who may call one method of a resource. */
export interface MethodAccess {
  /** in words, for the documentation (e.g. "the product's seller"); the hooks enforce it */
  who: string
  /** signed-in callers of these roles only (the hooks' requireRole is built from it); absent: any caller, the hooks decide by ownership */
  roles?: readonly Role[]
  /** callable without a token */
  open?: true
}

/**
 * What a resource is, as data the code itself uses: its methods, who may call
 * each (the hooks build their role checks from `access`), and the routing keys
 * each method emits (emit() refuses any other). scripts/docs renders the
 * documentation from these manifests.
 */
export interface ResourceManifest<M extends string = string> {
  path: string
  methods: readonly M[]
  access: { readonly [K in M]: MethodAccess }
  emits: { readonly [K in M]?: readonly RoutingKey[] }
}

/** A manifest whatever its method names, as a service's options hold it. */
export type AnyResourceManifest = ResourceManifest<any>

declare module '@feathersjs/feathers' {
  interface ServiceOptions<MethodTypes> {
    /** the resource's manifest, read by emit() */
    manifest?: AnyResourceManifest
  }
}

/** Declares a resource's manifest; the `const` keeps method names literal for typed access. */
export function defineResource<const M extends string>(manifest: ResourceManifest<M>): ResourceManifest<M> {
  for (const method of manifest.methods) {
    if (!manifest.access[method]) throw new Error(`manifest of /${manifest.path}: no access rule for ${method}`)
  }
  return manifest
}

/** The roles that may call `method`, for requireRole(); a manifest without them for that method is a mistake. */
export function rolesOf<M extends string>(manifest: ResourceManifest<M>, method: M): Role[] {
  const roles = manifest.access[method].roles
  if (!roles?.length) throw new Error(`manifest of /${manifest.path}: ${method} declares no roles`)
  return [...roles]
}

/** The options for app.use(): the manifest's methods, and the manifest itself for emit(). */
export function serviceOptions<M extends string>(manifest: ResourceManifest<M>) {
  return { methods: [...manifest.methods], manifest: manifest satisfies AnyResourceManifest }
}

// A CommonJS package whose re-exported helpers Node's ESM loader does not see as named exports.
const { getServiceOptions } = feathersModule

/** The manifest a service was registered with, if any. */
export function manifestOf(service: unknown): AnyResourceManifest | undefined {
  return getServiceOptions(service)?.manifest
}

/** The methods a registered service answers from outside (its `methods` option). */
export function externalMethodsOf(service: unknown): string[] {
  return [...(getServiceOptions(service)?.methods ?? [])]
}

/** Throws unless the service's manifest declares that `method` emits `routingKey`. */
export function checkDeclaredEmit(service: unknown, path: string, method: string, routingKey: RoutingKey): void {
  const manifest = manifestOf(service)
  if (!manifest) throw new Error(`emit(${routingKey}): /${path} has no manifest declaring what it emits (register it with serviceOptions(manifest))`)
  const declared = manifest.emits[method] ?? []
  if (!declared.includes(routingKey)) {
    throw new Error(`emit(${routingKey}): the manifest of /${path} does not declare it for ${method} (declared: ${declared.join(', ') || 'none'})`)
  }
}
