/**
 * Generates the API and event documentation from the code:
 *
 *   docs/events.md      every routing key of `contracts`: exchange, producers, consuming queues, properties, payload
 *   docs/asyncapi.yaml  the same as an AsyncAPI 3.0 document
 *   docs/api.md         the REST resources of every service, the SSE stream and the error bodies
 *   docs/openapi.json   the same REST API as an OpenAPI 3.1 document (served by the gateway at /openapi.json)
 *
 * `npx tsx scripts/docs.ts [outDir]` (default: docs/). Deterministic: running it
 * twice gives the same bytes, so test/docs.test.ts can refuse documentation
 * that has drifted from the code.
 *
 * What is read from the code: routing keys and payload schemas (shared/contracts),
 * producers (emit/writeOutbox/publish call sites under services/ and cli/),
 * consumers (each service's topology.ts), message properties and headers
 * (eventProperties() and shared/bus/headers.ts), public paths (shared/services.ts),
 * methods (each resource's *.shared.ts), request/result/query schemas (each
 * resource's *.schema.ts, by the naming convention `<name>Schema`,
 * `<name>DataSchema`, `<name>PatchSchema`, `<name>QuerySchema`), fields hidden by
 * external resolvers, pagination (the *.class.ts `paginate` option), SSE event
 * names and data (the gateway's audiences.ts `render`), error bodies (@feathersjs/errors).
 * What is not derivable is kept in the small explicit tables below (`access`, `restNotes`, `specialRoutes`).
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BadRequest, Conflict, FeathersError, Forbidden, NotAuthenticated, NotFound, Unavailable } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import YAML from 'yaml'
import * as contractModule from '../shared/contracts/index.ts'
import { contracts, routingKeys, type RoutingKey } from '../shared/contracts/index.ts'
import { checkContract } from '../shared/contracts/validate.ts'
import type { ConsumerDeclaration } from '../shared/bus/consumer-topology.ts'
import { Headers } from '../shared/bus/headers.ts'
import { eventProperties } from '../shared/bus/message.ts'
import { names } from '../shared/bus/names.ts'
import { defaultRetryPolicy, delayQueueDelays, maxAttempts, type RetryPolicy } from '../shared/bus/retry.ts'
import { serviceTable } from '../shared/services.ts'
import { topicMatches } from '../shared/bus/topic.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const NS = '<namespace>'
/** The namespace used in the AsyncAPI document, where addresses must be concrete: BAZAAR_NAMESPACE's default. */
const DEFAULT_NS = 'bazaar'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Schema = Record<string, any>

// ---------------------------------------------------------------------------
// Explicit tables: what the code does not state in a form that can be read.
// ---------------------------------------------------------------------------

/** Who may call what (contract.md's table, checked against each resource's hooks). Key: `<method> /<path>`. */
const access: Record<string, string> = {
  'create /users': 'anyone',
  'get /users': 'the user, or admin',
  'patch /users': 'the user, or admin',
  'create /authentication': 'anyone',
  'remove /authentication': 'the user (with the token, as `Authorization: Bearer`)',
  'find /notifications': 'the user (their own; `userId` defaults to the caller), or admin',
  'get /balances': 'the user, or admin',
  'get /segments': 'the user, or admin',
  'create /chatrooms': 'any signed-in user (who becomes a member)',
  'get /chatrooms': "the room's members",
  'find /products': 'anyone (no token needed)',
  'get /products': 'anyone (no token needed)',
  'create /products': 'sellers',
  'patch /products': "the product's seller",
  'find /orders': 'buyers (their own), sellers (orders holding their items), admin (all)',
  'get /orders': 'the buyer; a seller with items in it; admin',
  'create /orders': 'buyers',
  'create /claims': "the order's buyer",
  'find /appliances': 'sellers, their own',
  'create /appliances': 'sellers',
  'remove /appliances': 'sellers, their own',
  'find /maintenance-notices': 'anyone (no token needed)',
  'create /maintenance-notices': 'admin',
  'create /receipts': 'an appliance (its token as `Authorization: Bearer`)'
}

/** What a resource's schemas do not say. */
// withoutId: methods called on the collection path although Feathers names them by id (logout is `DELETE /authentication`)
const restNotes: Record<string, { idName?: string; withoutId?: string[]; notes?: string[]; resultExtra?: string; createResultExtra?: string }> = {
  users: {
    notes: [
      'Registering emits `user.registered`; a patch that changes a profile field emits `user.updated`.',
      '`POST /users` answers 409 if the email exists.',
      'A new `password` needs `currentPassword` when users change their own (400 naming it if missing or wrong; wrong ones count as failed logins); an admin may set another user\'s without. It ends every session of the account, the caller\'s included (log in again), and emits `user.sessions_revoked`.'
    ]
  },
  authentication: {
    withoutId: ['remove'],
    notes: [
      'Result: `{ accessToken, authentication: { strategy, ... }, user }`, where `user` is shown as `GET /users/:id` shows it.',
      'Each login with `strategy: "local"` sets the user\'s `lastLoginAt`.',
      'Failed logins are limited per client address and per account (`LOGIN_RATE_ADDRESS_POINTS`, `LOGIN_RATE_ACCOUNT_POINTS` per `LOGIN_RATE_WINDOW`): past either, 429 `TooManyRequests` with `Retry-After` (seconds, also `data.retryAfter`), even for the right password. A successful login resets its account\'s count.',
      '`DELETE /authentication` logs out: it ends every session of the token\'s user (every token issued so far is refused, on every instance, within about a second; open SSE streams end) and emits `user.sessions_revoked`.',
      'Send the token as `Authorization: Bearer <accessToken>` to every other resource.'
    ]
  },
  balances: { idName: 'userId', notes: ['A new user gets welcome points (from `user.registered`).'] },
  segments: { idName: 'userId', notes: ['Assigned on registration (from `user.registered`).'] },
  chatrooms: { notes: ['The creator is always a member; member names are kept current from `user.updated`.'] },
  products: { notes: ['Each create emits `product.created`, each patch `product.updated`; patching a parent\'s shared fields (title, description, price, currency) patches its children, each with its own `product.updated`.'] },
  orders: { notes: ['A placed order emits one `order.created` per seller, with that seller\'s lines only.', 'A seller reading an order sees only their own lines, and `total` is their subtotal.'] },
  claims: { notes: ['Emits `claim.opened`.'] },
  appliances: { createResultExtra: '`token` (string): the appliance\'s token, shown only in this answer', notes: ['Deleting an appliance revokes its token and ends its open streams.'] },
  'maintenance-notices': { notes: ['Creating a notice emits `maintenance.scheduled`; it is pushed to every connected SSE client as `maintenance`.'] },
  receipts: { notes: ['An appliance acknowledges an order it printed: that order is not delivered to it again.'] }
}

/** Public paths served by something other than a resource directory. */
const specialRoutes: Record<string, string[]> = {
  events: ['`GET /events`: the Server-Sent Events stream, see [SSE](#sse-get-events) below.'],
  health: [
    '`GET /health` (anyone): 200 `{ service, status: "ok", broker: "up", database: "up" }` when the service and its broker and database connections are ready; otherwise 503 (`Unavailable`) with the same report in `data`. Every service answers it on its own port; the public origin answers for the gateway.'
  ],
  warehouse: ['`GET /warehouse?token=<appliance token or seller JWT>`: an HTML page for the warehouse wall, showing incoming orders and maintenance banners live (it reads `/events`).']
}

// ---------------------------------------------------------------------------
// Helpers: files, markdown, schemas
// ---------------------------------------------------------------------------

const rel = (file: string) => relative(root, file).split('\\').join('/')
const code = (text: string) => '`' + text + '`'
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`)
  return lines.join('\n')
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name === 'test' || entry.name === 'node_modules') continue
      out.push(...walk(full))
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'testing.ts') out.push(full)
  }
  return out
}

/** A plain JSON copy: no TypeBox symbols, no `$id`s (names are given separately). */
function plain(schema: unknown): Schema {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === '$id' ? undefined : value)))
}

function typeOf(schema: Schema): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(' | ')
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(typeOf).join(' | ')
  if (Array.isArray(schema.oneOf)) return schema.oneOf.map(typeOf).join(' | ')
  if (schema.type === 'array') return `array of ${schema.items ? typeOf(schema.items) : 'any'}`
  if (Array.isArray(schema.type)) return schema.type.join(' | ')
  return schema.type ?? 'any'
}

function constraintsOf(schema: Schema): string[] {
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

const isObject = (schema: Schema | undefined): boolean => !!schema && schema.type === 'object' && !!schema.properties
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

function fieldTable(schema: Schema): string {
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
function queryTable(schema: Schema): string {
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

// ---------------------------------------------------------------------------
// Examples: deterministic values that satisfy the schemas
// ---------------------------------------------------------------------------

function uuidFor(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const exampleStrings: Record<string, string> = {
  title: 'Blue stoneware mug',
  description: 'Hand-glazed, 350 ml',
  name: 'Ada Lovelace',
  message: 'Checkout is unavailable during the database upgrade',
  reason: 'Arrived broken',
  subject: 'Welcome to Bazaar',
  segment: 'standard',
  changes: 'name',
  email: 'ada@example.com',
  to: 'ada@example.com',
  currency: 'EUR',
  password: 'correct horse battery staple',
  id: uuidFor('id'),
  accessToken: 'eyJhbGciOiJIUzI1NiJ9.example.signature'
}
const exampleNumbers: Record<string, number> = { price: 1250, unitPrice: 1250, quantity: 2, total: 2500, stock: 40, version: 3, points: 100 }
const exampleTimes: Record<string, string> = { startsAt: '2025-06-01T22:00:00.000Z', endsAt: '2025-06-01T23:30:00.000Z' }
const baseTime = '2025-06-01T09:30:00.000Z'

function example(schema: Schema, name = ''): Json {
  if ('const' in schema) return schema.const
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

const jsonBlock = (value: unknown) => '```json\n' + JSON.stringify(value, null, 2) + '\n```'

// ---------------------------------------------------------------------------
// Events: producers, consumers, properties
// ---------------------------------------------------------------------------

/** Routing-key constants exported by shared/contracts: `USER_REGISTERED` → `user.registered`. */
const keyConstants = new Map<string, RoutingKey>(
  Object.entries(contractModule).filter((e): e is [string, RoutingKey] => typeof e[1] === 'string' && routingKeys.includes(e[1] as RoutingKey))
)

/** The arguments of a call whose `(` is at `open`, split at top-level commas. */
function callArguments(text: string, open: number): string[] {
  const args: string[] = []
  let depth = 0
  let start = open + 1
  let quote: string | undefined
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
      continue
    }
    if (c === "'" || c === '"' || c === '`') quote = c
    else if ('([{'.includes(c)) depth++
    else if (')]}'.includes(c)) {
      if (depth === 0) {
        args.push(text.slice(start, i).trim())
        return args
      }
      depth--
    } else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  return args
}

function resolveKey(arg: string | undefined): RoutingKey | undefined {
  if (!arg) return undefined
  const literal = /^['"`]([\w.-]+)['"`]$/.exec(arg)
  if (literal) return routingKeys.includes(literal[1] as RoutingKey) ? (literal[1] as RoutingKey) : undefined
  return keyConstants.get(arg)
}

interface Producer {
  producer: string
  file: string
  via: string
}

/**
 * Scans services/ and cli/ (tests excluded) for `emit(context, KEY, …)`,
 * `writeOutbox(trx, options, KEY, …)` and `publisher.publish(KEY, …)`.
 * Sites whose key is not a constant or literal are reported, not guessed.
 */
function scanProducers(): { producers: Map<RoutingKey, Producer[]>; unresolved: string[] } {
  const producers = new Map<RoutingKey, Producer[]>(routingKeys.map((k) => [k, []]))
  const unresolved: string[] = []
  const files = [...walk(join(root, 'services')), ...walk(join(root, 'cli'))]
  const patterns: Array<{ re: RegExp; arg: number; via: string; strict: boolean }> = [
    { re: /(?<![\w.$])emit\s*\(/g, arg: 1, via: 'emit() through the outbox', strict: true },
    { re: /(?<![\w.$])writeOutbox\s*\(/g, arg: 2, via: 'writeOutbox() in a consumer', strict: true },
    { re: /\.publish\s*\(/g, arg: 0, via: 'Publisher.publish()', strict: false }
  ]
  for (const file of files) {
    const source = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
      .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
    const topDir = rel(file).split('/')[0]
    const producer = topDir === 'services' ? rel(file).split('/')[1] : 'cli'
    for (const { re, arg, via, strict } of patterns) {
      for (const match of source.matchAll(re)) {
        const args = callArguments(source, match.index! + match[0].length - 1)
        const key = resolveKey(args[arg])
        if (key) {
          const list = producers.get(key)!
          if (!list.some((p) => p.producer === producer && p.file === rel(file))) list.push({ producer, file: rel(file), via })
        } else if (strict && args.length > arg) {
          // `emit` on an EventEmitter (`this.emit('x')`) is excluded by the pattern; anything left is a real gap
          unresolved.push(`${rel(file)}: ${match[0].replace(/\s*\($/, '')}(… ${args[arg]} …)`)
        }
      }
    }
  }
  return { producers, unresolved: [...new Set(unresolved)].sort() }
}

export { topicMatches }

interface QueueInfo {
  service: string
  queue: string
  bindings: string[]
  declaration?: ConsumerDeclaration
  note?: string
}

async function loadConsumers(): Promise<{ queues: QueueInfo[]; notes: string[] }> {
  const queues: QueueInfo[] = []
  const notes: string[] = []
  for (const { name } of serviceTable) {
    const file = join(root, 'services', name, 'topology.ts')
    if (!existsSync(file)) {
      notes.push(`services/${name}/topology.ts is missing: its consumers, if any, are not documented.`)
      continue
    }
    const module = (await import(pathToFileURL(file).href)) as { consumers?: ConsumerDeclaration[] }
    for (const declaration of module.consumers ?? []) {
      queues.push({ service: declaration.service, queue: names.queue(NS, declaration.service, declaration.purpose), bindings: declaration.bindings, declaration })
    }
  }
  // Not a declaration (it is not durable), but it receives events: each gateway instance's live queue.
  const audiences = await loadAudiences()
  if (audiences) {
    queues.push({
      service: 'gateway',
      queue: '(server-named, one per gateway instance)',
      bindings: [...audiences.pushedRoutingKeys],
      note: 'exclusive, auto-delete classic queue of each running gateway (services/gateway/live/feed.ts), feeding its live SSE streams; not in topology.ts because it is not durable'
    })
  }
  return { queues, notes }
}

function retryText(policy: RetryPolicy): string {
  if (policy.kind === 'delayed') {
    return `delayed: retried after ${policy.delaysMs.map(formatMs).join(', ')} (delay queues, order not kept), dead-lettered after ${maxAttempts(policy)} attempts`
  }
  return `blocking: retried in place (prefetch 1, order kept) up to ${policy.maxAttempts} attempts, from ${formatMs(policy.initialDelayMs)} doubling`
}

const formatMs = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)

interface HeaderDoc {
  name: string
  key: string
  comment: string
}

/** Header names with the doc comments above them in shared/bus/headers.ts. */
function headerDocs(): HeaderDoc[] {
  const source = readFileSync(join(root, 'shared/bus/headers.ts'), 'utf8')
  const out: HeaderDoc[] = []
  let comment = ''
  for (const line of source.split('\n')) {
    const doc = /^\s*\/\*\*\s*(.*?)\s*\*\/\s*$/.exec(line)
    if (doc) {
      comment = doc[1]
      continue
    }
    const entry = /^\s*(\w+):\s*'([^']+)'/.exec(line)
    // a comment covers the entries right below it, up to a blank line
    if (entry) out.push({ key: entry[1], name: entry[2], comment })
    else if (line.trim() === '') comment = ''
  }
  return out
}

const contractHeaderMeaning: Record<string, string> = {
  [Headers.requestId]: 'the `X-Request-Id` of the HTTP request that started the work, carried through every derived event',
  [Headers.correlationId]: 'one id for a whole chain of work: the request id, else the first message id',
  [Headers.causationId]: 'the `messageId` of the message whose handling emitted this one',
  [Headers.namespace]: 'the deployment namespace (`BAZAAR_NAMESPACE`)'
}

/** Where headers.ts has no doc comment of its own (or one that is only a list of values). */
const bookkeepingMeaning: Record<string, string> = {
  firstFailureAt: 'when a handler first failed on it (ISO time)',
  lastFailureAt: 'when a handler last failed on it (ISO time)',
  error: 'the reason of the last failure (error message)',
  errorKind: 'why it was dead-lettered: `malformed` (not JSON), `contract` (payload invalid for its routing key), `handler` (retries exhausted) or `skipped` (by an operator, `bazaar consumer skip`)',
  deadLetteredAt: 'when it was moved to the dead-letter queue (ISO time)',
  replays: 'how many times an operator has replayed it from a dead-letter queue'
}

/** What eventProperties() sets: always, and only when known (as it says when called with and without a context). */
function messageProperties() {
  const bare = eventProperties('entity.event', {}, { appId: 'the-service', namespace: 'the-namespace' })
  const full = eventProperties('entity.event', { requestId: 'r', correlationId: 'c', causationId: 'm' }, { appId: 'the-service', namespace: 'the-namespace' })
  const describe = (key: string, value: unknown): string => {
    if (key === 'messageId') return 'a new UUID per event (unique; consumers deduplicate by it)'
    if (key === 'timestamp') return 'publish time, seconds since the epoch'
    if (value === 'entity.event') return 'the routing key'
    if (value === 'the-service') return 'the producing service'
    if (key === 'persistent' && value === true) return '`true` (delivery mode 2)'
    return code(JSON.stringify(value))
  }
  const properties = Object.entries(full)
    .filter(([key]) => key !== 'headers')
    .map(([key, value]) => ({ key, meaning: describe(key, value), always: key in bare }))
  const headers = Object.keys(full.headers).map((name) => ({
    name,
    always: name in bare.headers,
    meaning: contractHeaderMeaning[name] ?? ''
  }))
  return { properties, headers }
}

// ---------------------------------------------------------------------------
// Gateway SSE (optional: documented when the gateway's modules are there)
// ---------------------------------------------------------------------------

type AudiencesModule = typeof import('../services/gateway/history/audiences.ts') & typeof import('../services/gateway/live/render.ts')
let audiencesCache: AudiencesModule | null | undefined
async function loadAudiences(): Promise<AudiencesModule | null> {
  if (audiencesCache !== undefined) return audiencesCache
  const file = join(root, 'services/gateway/history/audiences.ts')
  const renderFile = join(root, 'services/gateway/live/render.ts')
  audiencesCache = existsSync(file) && existsSync(renderFile)
    ? { ...((await import(pathToFileURL(file).href)) as object), ...((await import(pathToFileURL(renderFile).href)) as object) } as AudiencesModule
    : null
  return audiencesCache
}

interface SseDelivery {
  routingKey: RoutingKey
  event: string
  to: string
  extra: Record<string, unknown>
}

/**
 * Asks the gateway's own `audiencesOf`/`addressOf`/`render` who receives what:
 * each pushed event (example payload) against an appliance and a user for
 * every id field of the payload, plus strangers.
 */
async function sseDeliveries(): Promise<SseDelivery[] | undefined> {
  const a = await loadAudiences()
  if (!a) return undefined
  const out: SseDelivery[] = []
  for (const routingKey of a.pushedRoutingKeys) {
    const payload = example(plain(contracts[routingKey])) as Record<string, unknown>
    const idFields = Object.keys(payload).filter((k) => /^(user|buyer|seller)Id$/.test(k))
    type P = Parameters<AudiencesModule['render']>[1]
    const principals: Array<{ label: string; principal: P }> = []
    for (const field of idFields) {
      principals.push({ label: `the user whose id is the payload's \`${field}\``, principal: { kind: 'user', userId: payload[field] as string, role: 'buyer' } })
      principals.push({ label: `appliances of the payload's \`${field}\``, principal: { kind: 'appliance', applianceId: uuidFor('appliance'), sellerId: payload[field] as string } })
    }
    principals.push({ label: 'every user', principal: { kind: 'user', userId: uuidFor('stranger'), role: 'admin' } })
    principals.push({ label: 'every appliance', principal: { kind: 'appliance', applianceId: uuidFor('other appliance'), sellerId: uuidFor('other seller') } })
    const address = a.addressOf(routingKey, payload as never)
    const received: Array<{ label: string; event: string; extra: Record<string, unknown>; stranger: boolean }> = []
    for (const { label, principal } of principals) {
      if (!a.audiencesOf(principal).some((audience) => address.audiences.includes(audience))) continue
      const shown = a.render({ id: 1, routingKey, payload: payload as never, audiences: address.audiences }, principal)
      if (!shown) continue
      const data = shown.data as Record<string, unknown>
      const extra = Object.fromEntries(Object.entries(data).filter(([k, v]) => !(k in payload) || payload[k] !== v))
      received.push({ label, event: shown.name, extra, stranger: label.startsWith('every') })
    }
    const everyoneGets = received.filter((r) => r.stranger).length === 2
    for (const r of received) {
      if (everyoneGets && !r.stranger) continue
      out.push({ routingKey, event: r.event, to: everyoneGets ? 'everyone (users and appliances)' : r.label, extra: r.extra })
      if (everyoneGets) break
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// events.md
// ---------------------------------------------------------------------------

interface EventsModel {
  producers: Map<RoutingKey, Producer[]>
  unresolved: string[]
  queues: QueueInfo[]
  consumerNotes: string[]
  examples: Map<RoutingKey, Json>
  sse?: SseDelivery[]
}

async function eventsModel(): Promise<EventsModel> {
  const { producers, unresolved } = scanProducers()
  const { queues, notes } = await loadConsumers()
  const examples = new Map<RoutingKey, Json>()
  for (const key of routingKeys) {
    const value = example(plain(contracts[key]))
    const check = checkContract(key, value)
    if (!check.ok) throw new Error(`docs: the generated example of ${key} does not match its contract: ${check.reason}`)
    examples.set(key, value)
  }
  return { producers, unresolved, queues, consumerNotes: notes, examples, sse: await sseDeliveries() }
}

const schemaName = (key: RoutingKey): string => (contracts[key] as Schema).$id ?? key
const consumersOf = (model: EventsModel, key: RoutingKey) => model.queues.filter((q) => q.bindings.some((b) => topicMatches(b, key)))
const producerLabel = (p: Producer) => (p.producer === 'cli' ? '`bazaar` CLI (operators)' : `**${p.producer}**`)
const anchor = (key: string) => key.replace(/\./g, '')

function eventsMarkdown(model: EventsModel): string {
  const out: string[] = []
  const exchange = names.eventsExchange(NS)
  out.push(
    '# Bazaar domain events',
    '',
    '<!-- Generated by scripts/docs.ts from shared/contracts, services/*/topology.ts and the emit sites under services/ and cli/. Do not edit: run `npx tsx scripts/docs.ts`. -->',
    '',
    `Every domain event goes to the topic exchange ${code(exchange)} (durable), with the routing key \`<entity>.<event>\`. ` +
      '`<namespace>` is `BAZAAR_NAMESPACE` (default `bazaar`). The body is the JSON payload, valid against the contract of its routing key (a TypeBox schema in `shared/contracts/`); consumers dead-letter at once a message that is not JSON or does not match (no retries). ' +
      'An AsyncAPI 3.0 description of the same is in [asyncapi.yaml](asyncapi.yaml).',
    '',
    '## Overview',
    '',
    table(
      ['routing key', 'payload', 'produced by', 'consumed by (queue)'],
      routingKeys.map((key) => [
        `[${code(key)}](#${anchor(key)})`,
        code(schemaName(key)),
        model.producers.get(key)!.map(producerLabel).join(', ') || '_none found_',
        consumersOf(model, key).map((q) => code(q.queue)).join(', ') || '_none_'
      ])
    ),
    '',
    'Producers are found by scanning `services/` and `cli/` (tests excluded) for `emit(context, KEY, …)`, `writeOutbox(trx, options, KEY, …)` and `publisher.publish(KEY, …)` with a routing-key constant or literal. ' +
      'Services publish through their transactional outbox, so an event is published if and only if the write that caused it commits. ' +
      'Consumers are matched from the binding patterns of each service\'s `topology.ts` with AMQP topic rules (`*` one word, `#` zero or more).'
  )
  if (model.unresolved.length) {
    out.push('', 'Emit sites whose routing key could not be read (not a constant or literal), not counted above:', '', ...model.unresolved.map((u) => `- ${code(u)}`))
  }
  if (model.consumerNotes.length) out.push('', ...model.consumerNotes.map((n) => `- ${n}`))

  const props = messageProperties()
  out.push(
    '',
    '## Message properties and headers',
    '',
    'Every event carries these AMQP properties (set by `eventProperties()` in `shared/bus/message.ts`):',
    '',
    table(['property', 'value'], props.properties.map((p) => [code(p.key), p.meaning + (p.always ? '' : ' (when known)')])),
    '',
    'and these headers:',
    '',
    table(['header', 'present', 'meaning'], props.headers.map((h) => [code(h.name), h.always ? 'always' : 'when known', h.meaning])),
    '',
    'Ids need not be passed by hand: within an HTTP request or a message handler they come from the work context. Events are published `mandatory`: one that reaches no queue is reported by the publisher.',
    '',
    'On the way through retry and dead-letter queues the bus adds its own bookkeeping headers (`shared/bus/headers.ts`):',
    '',
    table(
      ['header', 'meaning'],
      headerDocs()
        .filter((h) => !(h.name in contractHeaderMeaning))
        .map((h) => [code(h.name), bookkeepingMeaning[h.key] ?? (h.comment || h.key.replace(/([A-Z])/g, ' $1').toLowerCase())])
    )
  )

  out.push('', '## Queues', '', `Each consuming service has its own durable quorum queue \`${names.queue(NS, '<service>', '<purpose>')}\`, its delay queues \`<queue>.retry.<delay>\` and its dead-letter queue \`<queue>.dlq\` (\`bazaar dlq list\` names them).`, '')
  out.push(
    table(
      ['queue', 'service', 'bindings', 'retry', 'dead letters'],
      model.queues.map((q) => {
        const policy = q.declaration?.retry ?? defaultRetryPolicy
        const prefetch = q.declaration?.prefetch ? `; prefetch ${q.declaration.prefetch}` : ''
        return [
          code(q.queue),
          q.service,
          q.bindings.map(code).join(', '),
          q.declaration ? retryText(policy) + prefetch + (delayQueueDelays(policy).length ? `; delay queues ${delayQueueDelays(policy).map((d) => code(names.retryQueue(q.queue, d))).join(', ')}` : '') : q.note ?? '',
          q.declaration ? code(names.deadLetterQueue(q.queue)) : 'none'
        ]
      })
    )
  )

  for (const key of routingKeys) {
    const schema = plain(contracts[key])
    const producers = model.producers.get(key)!
    const consumers = consumersOf(model, key)
    out.push('', `## ${code(key)}`, '', `<a id="${anchor(key)}"></a>`, '')
    out.push(`- Exchange: ${code(exchange)} (topic), routing key ${code(key)}, AMQP \`type\` ${code(key)}`)
    out.push(
      `- Produced by: ${
        producers.length
          ? producers.map((p) => `${producerLabel(p)}${p.producer === 'cli' ? '' : ` (\`appId: ${p.producer}\`)`} via ${p.via} in ${code(p.file)}`).join('; ')
          : '_no emit site found_'
      }`
    )
    if (consumers.length) {
      out.push('- Consumed by:', '')
      out.push(
        table(
          ['queue', 'service', 'matching binding'],
          consumers.map((q) => [code(q.queue), q.service, q.bindings.filter((b) => topicMatches(b, key)).map(code).join(', ')])
        )
      )
    } else out.push('- Consumed by: no queue is bound to it')
    const pushed = model.sse?.filter((d) => d.routingKey === key) ?? []
    if (pushed.length) {
      out.push('', `- Pushed to SSE clients (\`GET /events\`, see [api.md](api.md#sse-get-events)): ${pushed.map((d) => `\`event: ${d.event}\` to ${d.to}${Object.keys(d.extra).length ? ` (data adds ${Object.entries(d.extra).map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``).join(', ')})` : ''}`).join('; ')}`)
    }
    const description = (contracts[key] as Schema).description
    out.push('', `### Payload ${code(schemaName(key))}`, '')
    if (description) out.push(description, '')
    out.push(fieldTable(schema), '', 'Example:', '', jsonBlock(model.examples.get(key)))
  }
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------
// asyncapi.yaml
// ---------------------------------------------------------------------------

function asyncapiDocument(model: EventsModel, version: string): Record<string, unknown> {
  const exchangeName = names.eventsExchange(DEFAULT_NS)
  const props = messageProperties()
  const headersSchema = {
    type: 'object',
    properties: Object.fromEntries(props.headers.map((h) => [h.name, { type: 'string', description: h.meaning }])),
    required: props.headers.filter((h) => h.always).map((h) => h.name)
  }
  const schemas: Record<string, Schema> = {}
  for (const key of routingKeys) schemas[schemaName(key)] = plain(contracts[key])
  const channels: Record<string, unknown> = {}
  const messages: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  for (const key of routingKeys) {
    messages[key] = {
      name: key,
      title: schemaName(key),
      contentType: 'application/json',
      headers: headersSchema,
      payload: { $ref: `#/components/schemas/${schemaName(key)}` },
      correlationId: { location: `$message.header#/${Headers.correlationId}` },
      bindings: { amqp: { contentEncoding: 'utf-8', messageType: key, bindingVersion: '0.3.0' } },
      examples: [{ name: 'example', payload: model.examples.get(key) }]
    }
    channels[key] = {
      address: key,
      title: key,
      description: `Routing key ${key} on the topic exchange <namespace>.events (here with the default namespace ${DEFAULT_NS}).`,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
      bindings: {
        amqp: { is: 'routingKey', exchange: { name: exchangeName, type: 'topic', durable: true, autoDelete: false, vhost: '/' }, bindingVersion: '0.3.0' }
      }
    }
  }
  // send: per producing service and key; receive: per consuming queue and key
  const producerNames = [...new Set(routingKeys.flatMap((k) => model.producers.get(k)!.map((p) => p.producer)))]
  const order = (name: string) => {
    const i = serviceTable.findIndex((s) => s.name === name)
    return i < 0 ? serviceTable.length : i
  }
  for (const producer of producerNames.sort((x, y) => order(x) - order(y) || (x < y ? -1 : 1))) {
    for (const key of routingKeys) {
      const sites = model.producers.get(key)!.filter((p) => p.producer === producer)
      if (!sites.length) continue
      operations[`${producer}.send.${key}`] = {
        action: 'send',
        title: `${producer} publishes ${key}`,
        description: `appId ${producer}; ${sites.map((s) => `${s.via} in ${s.file}`).join('; ')}`,
        channel: { $ref: `#/channels/${key}` },
        messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
        bindings: { amqp: { deliveryMode: 2, mandatory: true, timestamp: true, bindingVersion: '0.3.0' } }
      }
    }
  }
  for (const q of model.queues) {
    for (const key of routingKeys) {
      const patterns = q.bindings.filter((b) => topicMatches(b, key))
      if (!patterns.length) continue
      const durable = !!q.declaration
      const queueName = durable ? names.queue(DEFAULT_NS, q.declaration!.service, q.declaration!.purpose) : q.queue
      operations[`${q.service}.${durable ? q.declaration!.purpose : 'live'}.receive.${key}`] = {
        action: 'receive',
        title: `${q.service} consumes ${key}`,
        description: durable
          ? `Queue ${queueName} (bound with ${patterns.join(', ')}); ${retryText(q.declaration!.retry ?? defaultRetryPolicy)}; dead letters in ${names.deadLetterQueue(queueName)}.`
          : `${q.note} (bound with ${patterns.join(', ')}).`,
        channel: { $ref: `#/channels/${key}` },
        messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
        bindings: { amqp: { ack: true, bindingVersion: '0.3.0' } },
        'x-bazaar-queue': queueName,
        'x-bazaar-bindings': patterns
      }
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Bazaar domain events',
      version,
      description:
        'Generated by scripts/docs.ts; do not edit. Domain events on the topic exchange <namespace>.events (BAZAAR_NAMESPACE, default bazaar). ' +
        'Every message is persistent JSON with messageId, timestamp, type (the routing key) and appId (the producing service).'
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: { host: '127.0.0.1:5672', protocol: 'amqp', protocolVersion: '0.9.1', description: 'AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)' }
    },
    channels,
    operations,
    components: { schemas, messages }
  }
}

/** Structural checks of the AsyncAPI document: required fields and every local $ref resolving. */
export function checkAsyncapi(text: string): string[] {
  const problems: string[] = []
  const doc = YAML.parse(text) as Record<string, any>
  if (doc?.asyncapi !== '3.0.0') problems.push('asyncapi must be 3.0.0')
  if (!doc?.info?.title || !doc?.info?.version) problems.push('info.title and info.version are required')
  const resolvePointer = (ref: string): unknown =>
    ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<any>((node, part) => (node == null ? undefined : node[part]), doc)
  const visit = (node: unknown, path: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${path}[${i}]`))
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref') {
          if (typeof v !== 'string' || !v.startsWith('#/') || resolvePointer(v) === undefined) problems.push(`${path}: unresolved $ref ${String(v)}`)
        } else visit(v, `${path}.${k}`)
      }
    }
  }
  visit(doc, '$')
  for (const [id, channel] of Object.entries<any>(doc?.channels ?? {})) {
    if (typeof channel.address !== 'string') problems.push(`channel ${id}: address missing`)
    if (!channel.messages || !Object.keys(channel.messages).length) problems.push(`channel ${id}: no messages`)
  }
  for (const [id, op] of Object.entries<any>(doc?.operations ?? {})) {
    if (op.action !== 'send' && op.action !== 'receive') problems.push(`operation ${id}: action must be send or receive`)
    if (!op.channel?.$ref?.startsWith('#/channels/')) problems.push(`operation ${id}: channel must reference #/channels/`)
    for (const m of op.messages ?? []) if (!m.$ref?.startsWith(`${op.channel.$ref}/messages/`)) problems.push(`operation ${id}: message ${m.$ref} is not one of its channel's`)
  }
  return problems
}

// ---------------------------------------------------------------------------
// api.md
// ---------------------------------------------------------------------------

/** Whether `method` on `path` is addressed as `/path/:id`. */
const takesId = (path: string, m: string) => httpOf[m]!.withId && !restNotes[path]?.withoutId?.includes(m)

const httpOf: Record<string, { verb: string; withId: boolean; status: number }> = {
  find: { verb: 'GET', withId: false, status: 200 },
  get: { verb: 'GET', withId: true, status: 200 },
  create: { verb: 'POST', withId: false, status: 201 },
  update: { verb: 'PUT', withId: true, status: 200 },
  patch: { verb: 'PATCH', withId: true, status: 200 },
  remove: { verb: 'DELETE', withId: true, status: 200 }
}

interface Resource {
  path: string
  methods: string[]
  schemas: { result?: Schema; data?: Schema; patch?: Schema; query?: Schema; others: Array<[string, Schema]> }
  hidden: string[]
  paginate?: { default: number; max: number }
  files: string[]
}

const isTypeBox = (value: unknown): value is Schema => !!value && typeof value === 'object' && typeof (value as Schema).type === 'string' && (value as Schema).type === 'object'

async function loadResource(service: string, path: string): Promise<Resource | string> {
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
  const methods = (singular && Array.isArray(sharedModule[`${singular}Methods`]) ? (sharedModule[`${singular}Methods`] as string[]) : []).slice()
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
  const classFile = join(dir, `${path}.class.ts`)
  const paginateMatch = existsSync(classFile) ? /paginate:\s*\{\s*default:\s*(\d+),\s*max:\s*(\d+)/.exec(readFileSync(classFile, 'utf8')) : null
  return {
    path,
    methods: Object.keys(httpOf).filter((m) => methods.includes(m)),
    schemas: { result, data: pick('Data'), patch: pick('Patch'), query: pick('Query'), others },
    hidden,
    paginate: paginateMatch ? { default: Number(paginateMatch[1]), max: Number(paginateMatch[2]) } : undefined,
    files: [schemaFile, sharedFile].map(rel)
  }
}

function resultSchemaWithout(schema: Schema, hidden: string[]): Schema {
  const copy = plain(schema)
  for (const key of hidden) delete copy.properties[key]
  if (copy.required) copy.required = copy.required.filter((k: string) => !hidden.includes(k))
  return copy
}

/** A real 400 body: the users service's registration validator on a bad email and a short password. */
async function badRequestExample(): Promise<{ body: unknown; what: string }> {
  const file = join(root, 'services/users/resources/users/users.schema.ts')
  if (existsSync(file)) {
    const { userDataValidator } = (await import(pathToFileURL(file).href)) as { userDataValidator?: unknown }
    const context = { data: { email: 'not-an-email', password: 'short', name: 'Ada', role: 'buyer' }, params: {}, method: 'create', type: 'before' }
    try {
      await schemaHooks.validateData(userDataValidator as never)(context as never, async () => {})
    } catch (err) {
      if (err instanceof FeathersError) return { body: err.toJSON(), what: '`POST /users` with `{ "email": "not-an-email", "password": "short", ... }` answers' }
    }
  }
  return { body: new BadRequest('validation failed', [{ instancePath: '/email', message: 'must match format "email"' }]).toJSON(), what: 'For example' }
}

async function errorBodies(): Promise<string> {
  const example400 = await badRequestExample()
  const errors: FeathersError[] = [
    new BadRequest('validation failed'),
    new NotAuthenticated('Not authenticated'),
    new Forbidden('Not allowed'),
    new NotFound('No record found'),
    new Conflict('Already exists'),
    new Unavailable('Service unavailable')
  ]
  const rows = errors.map((e) => [String(e.code), code(e.name), code(e.className), {
    400: 'invalid input; `data` names the failing fields',
    401: 'no valid credentials',
    403: 'not allowed for this caller',
    404: 'no such record (also ids that are not UUIDs, and unknown paths)',
    409: 'conflict, e.g. an email that is already registered',
    503: 'not ready (`GET /health`), or a service behind the gateway is down'
  }[e.code] ?? ''])
  return [
    'Every error is a Feathers error body `{ name, message, code, className, data? }`, never a stack trace:',
    '',
    table(['status', 'name', 'className', 'when'], rows),
    '',
    `${example400.what} (the failing fields in \`data\`, one entry per problem):`,
    '',
    jsonBlock(example400.body),
    '',
    'Bad input never yields 500: PostgreSQL input errors are mapped to 400/404/409 as well.'
  ].join('\n')
}

async function apiMarkdown(sse: SseDelivery[] | undefined): Promise<string> {
  const out: string[] = [
    '# Bazaar REST API',
    '',
    '<!-- Generated by scripts/docs.ts from shared/services.ts and services/*/resources/*. Do not edit: run `npx tsx scripts/docs.ts`. -->',
    '',
    'JSON over HTTP on the one public origin (`PORT`, default 3030), which routes each path to the service that owns it. ' +
      'Every response carries `X-Request-Id` (the client\'s, or a new one); events caused by the request carry it as `x-request-id`. ' +
      'Signed-in calls send `Authorization: Bearer <accessToken>` (from `POST /authentication`). Ids are UUIDs made by the server; an id in a path that is not a UUID answers 404. Times are ISO 8601 strings.',
    '',
    'The same API as an OpenAPI 3.1 document: `GET /openapi.json` on the public origin ([openapi.json](openapi.json), generated with this page). ' +
      'Browsers on other origins may call it when their origin is listed in `CORS_ORIGINS` (comma-separated; `*` for any origin, without credentials; unset: no CORS headers at all).',
    '',
    '## Errors',
    '',
    await errorBodies(),
    '',
    '## Services and paths',
    '',
    table(['service', 'default internal port', 'public paths'], serviceTable.map((s) => [s.name, String(s.port), s.paths.map((p) => code(`/${p}`)).join(', ')]))
  ]
  for (const service of serviceTable) {
    out.push('', `## ${service.name}`)
    for (const path of service.paths) {
      out.push('', `### \`/${path}\``, '')
      if (specialRoutes[path]) {
        out.push(...specialRoutes[path])
        continue
      }
      const resource = await loadResource(service.name, path)
      if (typeof resource === 'string') {
        out.push(`_Not documented: ${resource}._`)
        continue
      }
      const notes = restNotes[path] ?? {}
      const idName = notes.idName ?? 'id'
      out.push(
        table(
          ['method', 'who', 'success', 'body', 'result'],
          resource.methods.map((m) => {
            const http = httpOf[m]
            const body = m === 'create' ? (resource.schemas.data ? 'Data' : resource.schemas.others.length ? resource.schemas.others.map(([k]) => code(k)).join(' or ') : '') : m === 'patch' || m === 'update' ? (resource.schemas.patch ? 'Patch' : '') : ''
            let result = resource.schemas.result ? 'Result' : ''
            if (m === 'find' && result) result = resource.paginate ? `\`{ total, limit, skip, data: Result[] }\` (page size ${resource.paginate.default}, at most ${resource.paginate.max})` : 'array of Result'
            if (m === 'create' && notes.createResultExtra) result += ' plus ' + notes.createResultExtra
            if (!result && path === 'authentication') result = '`{ accessToken, authentication, user }`'
            return [code(`${http.verb} /${path}${takesId(path, m) ? `/:${idName}` : m === 'find' && resource.schemas.query ? '?<query>' : ''}`), access[`${m} /${path}`] ?? '_not stated_', String(http.status), body, result]
          })
        )
      )
      if (notes.notes?.length) out.push('', ...notes.notes.map((n) => `- ${n}`))
      const sections: Array<[string, string]> = []
      if (resource.schemas.data && resource.methods.includes('create')) sections.push([`Data (\`${resource.schemas.data.$id}\`): the body of \`POST /${path}\``, fieldTable(plain(resource.schemas.data))])
      for (const [name, schema] of resource.schemas.others) sections.push([`${code(name)}${schema.$id ? ` (\`${schema.$id}\`)` : ''}`, fieldTable(plain(schema))])
      if (resource.schemas.patch && resource.methods.includes('patch')) sections.push([`Patch (\`${resource.schemas.patch.$id}\`): the body of \`PATCH /${path}/:${idName}\``, fieldTable(plain(resource.schemas.patch))])
      if (resource.schemas.query && resource.methods.includes('find')) sections.push([`Query: the parameters of \`GET /${path}\``, queryTable(plain(resource.schemas.query))])
      if (resource.schemas.result) {
        const hiddenNote = resource.hidden.length ? `\n\nNever returned: ${resource.hidden.map(code).join(', ')} (removed by the external resolver).` : ''
        sections.push([`Result (\`${resource.schemas.result.$id}\`)`, fieldTable(resultSchemaWithout(resource.schemas.result, resource.hidden)) + hiddenNote])
      }
      for (const [title, body] of sections) out.push('', `#### ${title}`, '', body)
      out.push('', `_From ${resource.files.map(code).join(', ')}._`)
    }
  }

  out.push('', '## SSE: `GET /events`', '', '<a id="sse-get-events"></a>', '')
  out.push(
    '- Credentials: a user\'s JWT or an appliance token, as `Authorization: Bearer <token>` or, for browsers\' EventSource, `?token=<token>`. Without valid credentials: 401, no stream.',
    '- Every event has `id:` (increasing per stream), `event:` (its name) and `data:` (JSON).',
    '- Reconnecting with `Last-Event-ID` (or `?lastEventId=`) delivers every event the client missed within the retention window, also across gateway restarts. An id that is not a positive integer, or one from the future, is ignored.',
    '- A client that connects while a maintenance notice is active receives it on connect.',
    ''
  )
  if (!sse) out.push('_The gateway\'s `services/gateway/history/audiences.ts` was not found: event names and data are not documented._')
  else {
    out.push(
      'Which domain event reaches whom, as what (from the gateway\'s `render`):',
      '',
      table(
        ['`event:`', 'from routing key', 'to', '`data:`'],
        sse.map((d) => [
          code(d.event),
          `[${code(d.routingKey)}](events.md#${anchor(d.routingKey)})`,
          d.to,
          `the \`${schemaName(d.routingKey)}\` payload${Object.keys(d.extra).length ? ` plus ${Object.entries(d.extra).map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``).join(', ')}` : ''}`
        ])
      ),
      '',
      'Data shapes (the payload schemas of [events.md](events.md)):'
    )
    const seen = new Set<string>()
    for (const d of sse) {
      const id = `${d.event}:${d.routingKey}:${JSON.stringify(d.extra)}`
      if (seen.has(id)) continue
      seen.add(id)
      const data = { ...(Object.keys(d.extra).length ? d.extra : {}), ...(example(plain(contracts[d.routingKey])) as Record<string, Json>), ...d.extra }
      out.push('', `\`event: ${d.event}\` (from \`${d.routingKey}\`, to ${d.to}):`, '', '```', `id: 42`, `event: ${d.event}`, `data: ${JSON.stringify(data)}`, '```')
    }
  }
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------
// openapi.json: the same resources as api.md, as an OpenAPI 3.1 document
// ---------------------------------------------------------------------------

/** Error responses by status: the Feathers error each one is, and when it is answered. */
const errorResponses: Record<string, { name: string; className: string; description: string }> = {
  400: { name: 'BadRequest', className: 'bad-request', description: 'Invalid input: `data` names the failing fields' },
  401: { name: 'NotAuthenticated', className: 'not-authenticated', description: 'No valid credentials' },
  403: { name: 'Forbidden', className: 'forbidden', description: 'Not allowed for this caller' },
  404: { name: 'NotFound', className: 'not-found', description: 'No such record (also an id that is not a UUID)' },
  409: { name: 'Conflict', className: 'conflict', description: 'Conflict with the current state (e.g. an email already registered, stock gone)' },
  413: { name: 'PayloadTooLarge', className: 'payload-too-large', description: 'The body is over the size limit' },
  429: { name: 'TooManyRequests', className: 'too-many-requests', description: 'Too many requests: wait as long as `Retry-After` says' },
  503: { name: 'Unavailable', className: 'unavailable', description: 'Not ready, or the service behind the public origin is down or too slow (also 502)' }
}

/** The Feathers error body every error answers with (`FeathersError.toJSON()`). */
const feathersErrorSchema: Schema = {
  type: 'object',
  description: 'A Feathers error body; never a stack trace',
  required: ['name', 'message', 'code', 'className'],
  properties: {
    name: { type: 'string', examples: ['BadRequest'] },
    message: { type: 'string' },
    code: { type: 'integer', minimum: 400, maximum: 599 },
    className: { type: 'string', examples: ['bad-request'] },
    data: { description: 'details, e.g. the failing fields of a 400' },
    errors: { description: 'validation errors, when there are some' }
  }
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const jsonContent = (schema: Schema) => ({ 'application/json': { schema } })
const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } }

/** The error statuses an operation can answer, from what it takes and who may call it. */
function errorStatuses(m: string, open: boolean, path: string): string[] {
  const statuses = new Set<string>()
  if (m !== 'remove') statuses.add('400')
  if (!open) statuses.add('401').add('403')
  if (takesId(path, m)) statuses.add('404').add('400')
  if (m === 'create' || m === 'patch' || m === 'update') statuses.add('409').add('413')
  if (path === 'authentication' && m === 'create') statuses.add('429')
  statuses.add('503')
  return [...statuses].sort()
}

/** Query parameters from a `querySyntax` schema: one per field (with its operators as `field[$op]`), then `$limit` etc. */
function queryParameters(query: Schema): Schema[] {
  return Object.entries<Schema>(query.properties ?? {}).map(([name, schema]) => {
    const object = schema.type === 'object' || (Array.isArray(schema.anyOf) && schema.anyOf.some((s: Schema) => s.type === 'object'))
    const parameter: Schema = { name, in: 'query', required: false, schema }
    if (object) Object.assign(parameter, { style: 'deepObject', explode: true })
    else if (schema.type === 'array') Object.assign(parameter, { style: 'form', explode: true })
    return parameter
  })
}

function pathParameter(name: string): Schema {
  return { name, in: 'path', required: true, schema: { type: 'string', description: name === 'id' ? 'a UUID (anything else answers 404)' : undefined } }
}

/** A schema name for components: the TypeBox `$id`, else the export name without `Schema`. */
function componentName(exportName: string, schema: Schema): string {
  return (schema.$id as string | undefined) ?? exportName.replace(/Schema$/, '').replace(/^./, (c) => c.toUpperCase())
}

function operationFor(resource: Resource, m: string, schemas: Record<string, Schema>): Schema {
  const { path } = resource
  const http = httpOf[m]
  const who = access[`${m} /${path}`]
  const open = !!who && who.startsWith('anyone')
  const notes = restNotes[path] ?? {}
  const add = (schema: Schema | undefined, name?: string): string | undefined => {
    if (!schema) return undefined
    const key = name ?? componentName('', schema)
    schemas[key] ??= plain(schema)
    return key
  }
  const resultName = resource.schemas.result ? componentName('', resource.schemas.result) : undefined
  if (resource.schemas.result && resultName) schemas[resultName] ??= resultSchemaWithout(resource.schemas.result, resource.hidden)

  let result: Schema | undefined = resultName ? ref(resultName) : undefined
  if (m === 'find' && result) {
    result = resource.paginate
      ? {
          type: 'object',
          required: ['total', 'limit', 'skip', 'data'],
          properties: { total: { type: 'integer' }, limit: { type: 'integer', maximum: resource.paginate.max }, skip: { type: 'integer' }, data: { type: 'array', items: result } }
        }
      : { type: 'array', items: result }
  }
  if (m === 'create' && path === 'appliances' && result) {
    result = { allOf: [result], type: 'object', required: ['token'], properties: { token: { type: 'string', description: "the appliance's token, shown only in this answer" } } }
  }
  if (!result && path === 'authentication') {
    result = {
      type: 'object',
      required: ['accessToken', 'user'],
      properties: { accessToken: { type: 'string', description: 'send as `Authorization: Bearer <accessToken>`' }, authentication: { type: 'object' }, user: schemas.User ? ref('User') : { type: 'object' } }
    }
  }

  let body: Schema | undefined
  if (m === 'create') {
    const data = add(resource.schemas.data)
    if (data) body = ref(data)
    else if (resource.schemas.others.length) body = { oneOf: resource.schemas.others.map(([k, s]) => ref(add(s, componentName(k, s))!)) }
  } else if (m === 'patch' || m === 'update') {
    const patch = add(resource.schemas.patch)
    if (patch) body = ref(patch)
  }

  const parameters: Schema[] = []
  if (m === 'find' && resource.schemas.query) parameters.push(...queryParameters(plain(resource.schemas.query)))
  const responses: Schema = {
    [String(http.status)]: {
      description: m === 'create' ? 'Created' : 'OK',
      headers: requestIdHeader,
      ...(result ? { content: jsonContent(result) } : {})
    }
  }
  for (const status of errorStatuses(m, open, path)) responses[status] = { $ref: `#/components/responses/${errorResponses[status].name}` }
  const description = [who ? `Who: ${who}.` : undefined, ...(notes.notes ?? [])].filter(Boolean).join('\n\n')
  return {
    operationId: `${m}${path.replace(/(^|-)(\w)/g, (_s, _d, c: string) => c.toUpperCase())}`,
    tags: [path],
    summary: `${http.verb} /${path}${takesId(path, m) ? `/{${notes.idName ?? 'id'}}` : ''}`,
    ...(description ? { description } : {}),
    ...(open ? { security: [{}, { bearer: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: jsonContent(body) } } : {}),
    responses
  }
}

/** Paths served by the gateway itself that are not resources. */
function specialPaths(): Record<string, Schema> {
  const errors = (...statuses: string[]) => Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/${errorResponses[s].name}` }]))
  const token = { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: "a user's JWT or an appliance token, for browsers' EventSource (instead of `Authorization`)" }
  return {
    '/events': {
      get: {
        operationId: 'events',
        tags: ['events'],
        summary: 'The Server-Sent Events stream',
        description: 'Credentials: a user\'s JWT or an appliance token. Every event has `id:`, `event:` and `data:` (JSON). Reconnecting with `Last-Event-ID` delivers what was missed within the retention window. See api.md for the events.',
        security: [{ bearer: [] }, { eventsToken: [] }],
        parameters: [
          token,
          { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,15}$' }, description: 'the same as the `Last-Event-ID` header' },
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }
        ],
        responses: { 200: { description: 'The stream', headers: requestIdHeader, content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors('401', '429', '503') }
      }
    },
    '/health': {
      get: {
        operationId: 'health',
        tags: ['health'],
        summary: 'Readiness of the service and its broker and database connections',
        security: [],
        responses: {
          200: {
            description: 'Ready',
            headers: requestIdHeader,
            content: jsonContent({ type: 'object', required: ['service', 'status'], properties: { service: { type: 'string' }, status: { const: 'ok' }, broker: { type: 'string' }, database: { type: 'string' } } })
          },
          ...errors('503')
        }
      }
    },
    '/warehouse': {
      get: {
        operationId: 'warehouse',
        tags: ['warehouse'],
        summary: 'The warehouse wall page (HTML): incoming orders and maintenance banners, live',
        security: [],
        parameters: [{ ...token, description: 'an appliance token or a seller JWT' }],
        responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } }
      }
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        tags: ['openapi'],
        summary: 'This document',
        security: [],
        responses: { 200: { description: 'The OpenAPI 3.1 document of the REST API', headers: requestIdHeader, content: jsonContent({ type: 'object' }) } }
      }
    }
  }
}

/**
 * The REST API as an OpenAPI 3.1 document: paths and methods from
 * shared/services.ts and each resource's *.shared.ts, bodies, results and
 * query parameters from its *.schema.ts (as `loadResource` reads them for
 * api.md), Feathers error bodies, bearer security. Served by the gateway
 * at `GET /openapi.json`.
 */
export async function openapiDocument(version: string): Promise<Record<string, unknown>> {
  const schemas: Record<string, Schema> = { FeathersError: feathersErrorSchema }
  const paths: Record<string, Record<string, Schema>> = {}
  const skipped: string[] = []
  // Users first: the authentication result refers to the User schema.
  const ordered = [...serviceTable].sort((a, b) => (a.name === 'users' ? -1 : b.name === 'users' ? 1 : 0))
  for (const service of ordered) {
    for (const path of service.paths) {
      if (specialRoutes[path]) continue
      const resource = await loadResource(service.name, path)
      if (typeof resource === 'string') {
        skipped.push(`/${path}: ${resource}`)
        continue
      }
      const idName = restNotes[path]?.idName ?? 'id'
      for (const m of resource.methods) {
        const http = httpOf[m]
        const key = takesId(path, m) ? `/${path}/{${idName}}` : `/${path}`
        const operation = operationFor(resource, m, schemas)
        if (takesId(path, m)) operation.parameters = [pathParameter(idName), ...(operation.parameters ?? [])]
        ;(paths[key] ??= {})[http.verb.toLowerCase()] = operation
      }
    }
  }
  if (skipped.length) throw new Error(`docs: openapi.json cannot describe:\n${skipped.join('\n')}`)
  Object.assign(paths, specialPaths())
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : 1)))
  const sortedSchemas = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : 1)))
  const responses = Object.fromEntries(
    Object.entries(errorResponses).map(([status, e]) => [
      e.name,
      {
        description: e.description,
        headers: requestIdHeader,
        content: jsonContent({ allOf: [ref('FeathersError')], properties: { name: { const: e.name }, code: { const: Number(status) }, className: { const: e.className } } })
      }
    ])
  )
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bazaar REST API',
      version,
      description:
        'JSON over HTTP on the one public origin, generated by scripts/docs.ts from the TypeBox schemas of each resource (see docs/api.md for the prose). ' +
        'Queries use the Feathers syntax (`price[$gte]=100&$sort[price]=1&$select[]=title`). Every response carries `X-Request-Id`. ' +
        'Cross-origin browsers are allowed from the origins in `CORS_ORIGINS`.'
    },
    servers: [{ url: '/', description: 'the public origin (the gateway)' }],
    security: [{ bearer: [] }],
    tags: [...serviceTable.flatMap((s) => s.paths.map((p) => ({ name: p, description: `served by ${s.name}` }))), { name: 'openapi', description: 'served by gateway' }],
    paths: sortedPaths,
    components: {
      schemas: sortedSchemas,
      responses,
      headers: { 'X-Request-Id': { description: "the client's X-Request-Id, or a new one", schema: { type: 'string' } } },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "a user's JWT from `POST /authentication`, or an appliance token where stated" },
        eventsToken: { type: 'apiKey', in: 'query', name: 'token', description: 'for `GET /events` and `/warehouse` only, where EventSource cannot send headers' }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/** The generated files: name → content. */
export async function generateDocs(): Promise<Record<string, string>> {
  const model = await eventsModel()
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  const asyncapi =
    '# Generated by scripts/docs.ts from shared/contracts and services/*/topology.ts. Do not edit: run `npx tsx scripts/docs.ts`.\n' +
    YAML.stringify(asyncapiDocument(model, version), { aliasDuplicateObjects: false, lineWidth: 0 })
  const problems = checkAsyncapi(asyncapi)
  if (problems.length) throw new Error(`docs: asyncapi.yaml is not well formed:\n${problems.join('\n')}`)
  return {
    'api.md': await apiMarkdown(model.sse),
    'events.md': eventsMarkdown(model),
    'asyncapi.yaml': asyncapi,
    'openapi.json': JSON.stringify(await openapiDocument(version), null, 2) + '\n'
  }
}

/** Writes the generated files into `outDir`; returns their paths. */
export async function writeDocs(outDir: string): Promise<string[]> {
  const files = await generateDocs()
  mkdirSync(outDir, { recursive: true })
  return Object.entries(files).map(([name, content]) => {
    const file = join(outDir, name)
    writeFileSync(file, content)
    return file
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(root, 'docs'))
  writeDocs(outDir).then(
    (files) => {
      for (const file of files) console.log(`wrote ${relative(process.cwd(), file)}`)
      process.exit(0)
    },
    (err: Error) => {
      console.error(err.message)
      process.exit(1)
    }
  )
}
