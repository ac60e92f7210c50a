import { createHash } from 'node:crypto'
import type { Json, Schema } from './common.ts'

export function uuidFor(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const exampleStrings: Record<string, string> = {
  title: 'Blue stoneware mug',
  description: 'Hand-glazed, 350 ml',
  name: 'Ada Lovelace',
  message: 'Checkout is unavailable during the database upgrade',
  reason: 'Arrived broken',
  response: 'Sorry! A replacement is on its way',
  timeZone: 'Europe/Berlin',
  text: 'Hello Ada, ...',
  subject: 'Welcome to Bazaar',
  segment: 'standard',
  changes: 'name',
  email: 'ada@example.com',
  to: 'ada@example.com',
  currency: 'EUR',
  // ShipTo.country has a pattern (^[A-Z]{2}$): a country code that matches it, so the order.paid example passes its contract
  country: 'FR',
  password: 'correct horse battery staple',
  id: uuidFor('id'),
  accessToken: 'eyJhbGciOiJIUzI1NiJ9.example.signature'
}
const exampleNumbers: Record<string, number> = { price: 1250, unitPrice: 1250, quantity: 2, total: 2500, stock: 40, version: 3, points: 100 }
const exampleTimes: Record<string, string> = { startsAt: '2025-06-01T22:00:00.000Z', endsAt: '2025-06-01T23:30:00.000Z' }
const baseTime = '2025-06-01T09:30:00.000Z'

export function example(schema: Schema, name = ''): Json {
  if ('const' in schema) return schema.const
  // a schema that carries its own example (a code with a pattern, say) is shown with it
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0]
  if (Array.isArray(schema.enum)) return schema.enum[0]
  if (Array.isArray(schema.anyOf)) return example(schema.anyOf.find((m: Schema) => m.type !== 'null') ?? schema.anyOf[0], name)
  switch (schema.type) {
    case 'null':
      return null
    case 'boolean':
      return false
    case 'integer':
    case 'number': {
      let n = exampleNumbers[name] ?? schema.minimum ?? 1
      if (schema.maximum !== undefined) n = Math.min(n, schema.maximum)
      return n
    }
    case 'array': {
      const count = Math.max(1, schema.minItems ?? 1)
      const item = name.endsWith('Ids') ? name.slice(0, -1) : name
      return Array.from({ length: count }, () => example(schema.items ?? {}, item))
    }
    case 'object': {
      const out: Record<string, Json> = {}
      for (const [key, child] of Object.entries<Schema>(schema.properties ?? {})) out[key] = example(child, key)
      return out
    }
    case 'string': {
      let s: string
      if (schema.format === 'date-time') s = exampleTimes[name] ?? baseTime
      else if (schema.format === 'uuid' || /Id$/.test(name)) s = uuidFor(name)
      else if (schema.format === 'email') s = 'ada@example.com'
      else s = exampleStrings[name] ?? 'example'
      if (schema.maxLength !== undefined) s = s.slice(0, schema.maxLength)
      if (schema.minLength !== undefined && s.length < schema.minLength) s = s.padEnd(schema.minLength, 'x')
      return s
    }
  }
  return null
}
