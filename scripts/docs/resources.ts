import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { rel, root, type Schema } from './common.ts'
import { example } from './examples.ts'
import type { ResourceEntry } from './manifests.ts'
import { plain } from './markdown.ts'
import { restNotes } from './notes.ts'

/** Whether `method` on `path` is addressed as `/path/:id`. */
export const takesId = (path: string, m: string) => httpOf[m]!.withId && !restNotes[path]?.withoutId?.includes(m)

export const httpOf: Record<string, { verb: string; withId: boolean; status: number }> = {
  find: { verb: 'GET', withId: false, status: 200 },
  get: { verb: 'GET', withId: true, status: 200 },
  create: { verb: 'POST', withId: false, status: 201 },
  update: { verb: 'PUT', withId: true, status: 200 },
  patch: { verb: 'PATCH', withId: true, status: 200 },
  remove: { verb: 'DELETE', withId: true, status: 200 }
}

/** The status a method answers on success: its verb's, or the resource's own for create (202 when the work follows). */
export const successStatus = (path: string, m: string) => (m === 'create' && restNotes[path]?.createStatus) || httpOf[m]!.status

export interface Resource {
  path: string
  methods: string[]
  access: ResourceEntry['manifest']['access']
  emits: ResourceEntry['manifest']['emits']
  schemas: { result?: Schema; data?: Schema; patch?: Schema; query?: Schema; others: Array<[string, Schema]> }
  hidden: string[]
  paginate?: { default: number; max: number }
  files: string[]
}

const isTypeBox = (value: unknown): value is Schema => !!value && typeof value === 'object' && typeof (value as Schema).type === 'string' && (value as Schema).type === 'object'

/** A resource as its manifest declares it, with the schemas of its *.schema.ts and the options of its *.class.ts. */
export async function loadResource({ service, manifest }: ResourceEntry): Promise<Resource | string> {
  const path = manifest.path
  const dir = join(root, 'services', service, 'resources', path)
  const schemaFile = join(dir, `${path}.schema.ts`)
  const sharedFile = join(dir, `${path}.shared.ts`)
  if (!existsSync(schemaFile) || !existsSync(sharedFile)) return `no resource module (services/${service}/resources/${path}/${path}.schema.ts and .shared.ts) found`
  let schemaModule: Record<string, unknown>
  let sharedModule: Record<string, unknown>
  try {
    schemaModule = await import(pathToFileURL(schemaFile).href)
    sharedModule = await import(pathToFileURL(sharedFile).href)
  } catch (err) {
    return `its modules could not be loaded (${(err as Error).message.split('\n')[0]})`
  }
  const pathExport = Object.entries(sharedModule).find(([k, v]) => k.endsWith('Path') && v === path)
  const singular = pathExport ? pathExport[0].slice(0, -'Path'.length) : undefined
  const methods: readonly string[] = manifest.methods
  const pick = (suffix: string): Schema | undefined => {
    const value = singular ? schemaModule[`${singular}${suffix}Schema`] : undefined
    return isTypeBox(value) ? (value as Schema) : undefined
  }
  const known = new Set(['', 'Data', 'Patch', 'Query'].map((s) => `${singular}${s}Schema`))
  // Other object schemas are shown only as the alternatives of a create body without a Data schema
  // (authentication); the rest are parts of the above (members, items) or internal (the bootstrap admin's).
  const others = pick('Data') ? [] : Object.entries(schemaModule)
    .filter(([k, v]) => k.endsWith('Schema') && !known.has(k) && isTypeBox(v) && !(v as Schema).properties?.$limit)
    .map(([k, v]) => [k, v as Schema] as [string, Schema])
  const result = pick('')
  // Fields the external resolver drops (e.g. a password hash), found by running it on an example.
  const hidden: string[] = []
  const external = singular ? (schemaModule[`${singular}ExternalResolver`] as { resolve?: Function } | undefined) : undefined
  if (result && external?.resolve) {
    try {
      const sample = example(plain(result)) as Record<string, unknown>
      const shown = (await external.resolve(structuredClone(sample), { params: {}, app: { get: () => undefined } })) as Record<string, unknown>
      for (const key of Object.keys(sample)) if (shown[key] === undefined) hidden.push(key)
    } catch {
      // a resolver that needs a real context: nothing derived
    }
  }
  const paginate = await paginationOf(join(dir, `${path}.class.ts`))
  return {
    path,
    methods: Object.keys(httpOf).filter((m) => methods.includes(m)),
    access: manifest.access,
    emits: manifest.emits,
    schemas: { result, data: pick('Data'), patch: pick('Patch'), query: pick('Query'), others },
    hidden,
    paginate,
    files: [schemaFile, sharedFile, join(dir, `${path}.manifest.ts`)].map(rel)
  }
}

/**
 * The page sizes the resource's own `getOptions(app)` sets: called with an app
 * whose settings are all unset, since only the literal options matter here.
 */
async function paginationOf(classFile: string): Promise<{ default: number; max: number } | undefined> {
  if (!existsSync(classFile)) return undefined
  const { getOptions } = (await import(pathToFileURL(classFile).href)) as { getOptions?: (app: unknown) => { paginate?: unknown } }
  if (typeof getOptions !== 'function') return undefined
  const paginate = getOptions({ get: () => undefined }).paginate as { default?: number; max?: number } | false | undefined
  return paginate && typeof paginate.default === 'number' && typeof paginate.max === 'number' ? { default: paginate.default, max: paginate.max } : undefined
}

export function resultSchemaWithout(schema: Schema, hidden: string[]): Schema {
  const copy = plain(schema)
  for (const key of hidden) delete copy.properties[key]
  if (copy.required) copy.required = copy.required.filter((k: string) => !hidden.includes(k))
  return copy
}

