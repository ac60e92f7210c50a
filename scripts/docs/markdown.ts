import type { Schema } from './common.ts'

export const code = (text: string) => '`' + text + '`'
export const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`)
  return lines.join('\n')
}

/** A plain JSON copy: no TypeBox symbols, no `$id`s (names are given separately). */
export function plain(schema: unknown): Schema {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === '$id' ? undefined : value)))
}

export function typeOf(schema: Schema): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' | ')
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(typeOf).join(' | ')
  if (Array.isArray(schema.oneOf)) return schema.oneOf.map(typeOf).join(' | ')
  if (schema.type === 'array') return `array of ${schema.items ? typeOf(schema.items) : 'any'}`
  if (Array.isArray(schema.type)) return schema.type.join(' | ')
  return schema.type ?? 'any'
}

export function constraintsOf(schema: Schema): string[] {
  const out: string[] = []
  const members: Schema[] = Array.isArray(schema.anyOf) ? schema.anyOf.filter((m: Schema) => m.type !== 'null') : [schema]
  for (const s of members) {
    if (s.format) out.push(`format ${s.format}`)
    if (s.minLength !== undefined && s.maxLength !== undefined && s.minLength === s.maxLength) out.push(`length ${s.minLength}`)
    else {
      if (s.minLength !== undefined) out.push(`minLength ${s.minLength}`)
      if (s.maxLength !== undefined) out.push(`maxLength ${s.maxLength}`)
    }
    if (s.minimum !== undefined) out.push(`minimum ${s.minimum}`)
    if (s.maximum !== undefined) out.push(`maximum ${s.maximum}`)
    if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`)
    if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`)
    if (s.pattern !== undefined) out.push(`pattern ${code(s.pattern)}`)
    if (s.minItems !== undefined) out.push(`minItems ${s.minItems}`)
    if (s.maxItems !== undefined) out.push(`maxItems ${s.maxItems}`)
    if (s.uniqueItems) out.push('unique items')
    if (s.type === 'array' && s.items && !isObject(s.items)) out.push(...constraintsOf(s.items).map((c) => `each: ${c}`))
  }
  return [...new Set(out)]
}

export const isObject = (schema: Schema | undefined): boolean => !!schema && schema.type === 'object' && !!schema.properties
const objectMember = (schema: Schema): Schema | undefined => (Array.isArray(schema.anyOf) ? schema.anyOf.find(isObject) : undefined)

interface FieldRow {
  name: string
  type: string
  required: string
  constraints: string
  description: string
}

/** One row per field, nested objects and arrays of objects flattened as `a.b` and `a[].b`. */
function fieldRows(schema: Schema, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = []
  const required = new Set<string>(schema.required ?? [])
  for (const [name, child] of Object.entries<Schema>(schema.properties ?? {})) {
    const path = prefix + name
    const nested = isObject(child) ? child : isObject(child.items) ? child.items : objectMember(child)
    const type = isObject(child) ? 'object' : isObject(child.items) ? 'array of object' : typeOf(child)
    const constraints = constraintsOf(child)
    if (nested?.additionalProperties === false) constraints.push('no other fields')
    rows.push({ name: code(path), type: code(type), required: required.has(name) ? 'yes' : 'no', constraints: constraints.join(', '), description: child.description ?? '' })
    if (nested) rows.push(...fieldRows(nested, isObject(child.items) ? `${path}[].` : `${path}.`))
  }
  return rows
}

export function fieldTable(schema: Schema): string {
  const rows = fieldRows(schema)
  if (!rows.length) return '_No fields._'
  const hasDescription = rows.some((r) => r.description)
  const header = ['field', 'type', 'required', 'constraints', ...(hasDescription ? ['description'] : [])]
  const lines = [table(header, rows.map((r) => [r.name, r.type, r.required, r.constraints, ...(hasDescription ? [r.description] : [])]))]
  const notes: string[] = []
  if (schema.additionalProperties === false) notes.push('No other fields are accepted.')
  if (schema.minProperties) notes.push(`At least ${schema.minProperties} field${schema.minProperties > 1 ? 's' : ''}.`)
  if (notes.length) lines.push('', notes.join(' '))
  return lines.join('\n')
}

/** Query schemas made by `querySyntax`: one row per field with its operators, then `$limit` and friends. */
export function queryTable(schema: Schema): string {
  const props = Object.entries<Schema>(schema.properties ?? {})
  if (!props.length) return '_No query parameters._'
  const rows: string[][] = []
  for (const [name, child] of props) {
    if (name.startsWith('$')) continue
    const [value, operators] = Array.isArray(child.anyOf) && child.anyOf.length === 2 && child.anyOf[1].type === 'object' ? child.anyOf : [child, undefined]
    rows.push([code(name), code(typeOf(value)), constraintsOf(value).join(', '), operators ? Object.keys(operators.properties).map(code).join(' ') : ''])
  }
  const sortable = Object.keys(schema.properties.$sort?.properties ?? {})
  const special: Record<string, string> = {
    $limit: 'page size',
    $skip: 'offset',
    $sort: `\`$sort[<field>]=1\` or \`-1\`; fields: ${sortable.map(code).join(', ')}`,
    $select: 'only these fields',
    $or: 'any of several conditions on the fields above',
    $and: 'all of several conditions on the fields above'
  }
  for (const [name, child] of props) {
    if (!name.startsWith('$')) continue
    rows.push([code(name), code(typeOf(child)), constraintsOf(child).join(', '), special[name] ?? ''])
  }
  return table(['parameter', 'type', 'constraints', 'operators / meaning'], rows)
}

export const jsonBlock = (value: unknown) => '```json\n' + JSON.stringify(value, null, 2) + '\n```'
