import { serviceTable } from '../../shared/services.ts'
import type { Schema } from './common.ts'
import type { ResourceEntry } from './manifests.ts'
import { plain } from './markdown.ts'
import { restNotes, specialRoutes } from './notes.ts'
import { httpOf, loadResource, resultSchemaWithout, successStatus, takesId, type Resource } from './resources.ts'

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
  const who = resource.access[m]?.who
  const open = !!resource.access[m]?.open
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
    [String(successStatus(path, m))]: {
      description: m === 'create' ? (successStatus(path, m) === 202 ? 'Accepted' : 'Created') : 'OK',
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
export async function openapiDocument(version: string, manifests: Map<string, ResourceEntry>): Promise<Record<string, unknown>> {
  const schemas: Record<string, Schema> = { FeathersError: feathersErrorSchema }
  const paths: Record<string, Record<string, Schema>> = {}
  const skipped: string[] = []
  // Users first: the authentication result refers to the User schema.
  const ordered = [...serviceTable].sort((a, b) => (a.name === 'users' ? -1 : b.name === 'users' ? 1 : 0))
  for (const service of ordered) {
    for (const path of service.paths) {
      if (specialRoutes[path]) continue
      const resource = await loadResource(manifests.get(path)!)
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
