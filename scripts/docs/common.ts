import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url))
/** How the docs write a deployment namespace in names. */
export const NS = '<namespace>'
/** The namespace used in the AsyncAPI document, where addresses must be concrete: BAZAAR_NAMESPACE's default. */
export const DEFAULT_NS = 'bazaar'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type Schema = Record<string, any>

/** A path relative to the repository root, with `/`. */
export const rel = (file: string) => relative(root, file).split('\\').join('/')
