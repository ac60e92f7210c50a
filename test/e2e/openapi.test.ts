import { expect } from 'chai'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv, addFormats } from '@feathersjs/schema'
import { uniqueNamespace } from '../../shared/testing/namespace.ts'
import { json, register, type Actor } from '../support/identities.ts'
import { startStack, type Stack } from '../support/stack.ts'

/** The contract beside the repository (../shared/design/contract.md); where it is absent (a Docker image), its first round's paths. */
const contractFile = fileURLToPath(new URL('../../../shared/design/contract.md', import.meta.url))
const firstRoundPaths = [
  'POST /users', 'POST /authentication', 'GET /users/:id', 'PATCH /users/:id', 'GET /balances/:userId', 'GET /segments/:userId',
  'GET /notifications', 'POST /chatrooms', 'GET /chatrooms/:id', 'POST /products', 'PATCH /products/:id', 'GET /products/:id',
  'GET /products', 'POST /orders', 'GET /orders/:id', 'GET /orders', 'POST /claims', 'POST /appliances', 'GET /appliances',
  'DELETE /appliances/:id', 'POST /maintenance-notices', 'GET /health', 'GET /events'
]

/** `METHOD /path` of every REST and SSE endpoint the contract names before its second round (which later issues build). */
function contractEndpoints(): string[] {
  if (!existsSync(contractFile)) return firstRoundPaths
  const text = readFileSync(contractFile, 'utf8')
  const firstRound = text.slice(text.indexOf('## REST'), text.indexOf('## AMQP'))
  return [...new Set([...firstRound.matchAll(/`(GET|POST|PATCH|PUT|DELETE) (\/[\w\-/:]+)/g)].map((m) => `${m[1]} ${m[2]}`))]
}

/** `/balances/:userId` and `/balances/{userId}` alike: parameters are compared by position, not by name. */
const template = (path: string) => path.replace(/:\w+|\{\w+\}/g, '{}')

/** JSON pointer escaping, for reaching one schema inside the document. */
const pointer = (...parts: string[]) => '#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

describe('GET /openapi.json: an OpenAPI 3.1 document of the REST API', function () {
  this.timeout(120_000)
  const namespace = uniqueNamespace('openapi')
  let stack: Stack
  let seller: Actor
  let document: any
  let ajv: InstanceType<typeof Ajv>

  /** Whether `body` is what the document says `METHOD path` answers with `status`: the problems found, none if it is. */
  function check(path: string, method: string, status: number, body: unknown): string[] {
    const response = document.paths[path]?.[method]?.responses?.[String(status)]
    expect(response, `${method} ${path} ${status} is in the document`).to.be.an('object')
    // An error response is a `$ref` to components.responses; its content schema is what the body must match.
    const where = response.$ref
      ? ['components', 'responses', response.$ref.split('/').pop()]
      : ['paths', path, method, 'responses', String(status)]
    const validate = ajv.getSchema(`openapi.json${pointer(...where, 'content', 'application/json', 'schema')}`)
    expect(validate, `${method} ${path} ${status} has a JSON body schema`).to.be.a('function')
    return validate!(body) ? [] : (validate!.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`)
  }

  before(async () => {
    stack = await startStack(namespace)
    seller = await register(stack.base, 'seller', 'OpenAPI Seller')
    const answer = await fetch(`${stack.base}/openapi.json`)
    expect(answer.status).to.equal(200)
    expect(answer.headers.get('content-type')).to.match(/^application\/json/)
    document = await answer.json()
    // The document as one schema resource: `$ref`s to #/components resolve against it (strict off: it is not only a schema).
    ajv = addFormats(new Ajv({ strict: false, allErrors: true }), ['uuid', 'date-time', 'email', 'uri'])
    ajv.addSchema(document, 'openapi.json')
  })

  after(async () => {
    await stack?.stop()
  })

  it('is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)', async () => {
    expect(document.openapi).to.match(/^3\.1\./)
    const validator = new Validator()
    const result = await validator.validate(document)
    expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined)
    expect(result.valid).to.equal(true)
    expect(validator.version).to.equal('3.1')
  })

  it('lists every path and method of the contract, with the error bodies, query parameters and bearer auth', () => {
    const endpoints = contractEndpoints()
    expect(endpoints.length).to.be.greaterThan(15)
    const documented = new Set(
      Object.entries<Record<string, unknown>>(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${template(path)}`))
    )
    const missing = endpoints.filter((e) => !documented.has(`${e.split(' ')[0]} ${template(e.split(' ')[1])}`))
    expect(missing, 'contract endpoints missing from /openapi.json').to.deep.equal([])

    expect(document.components.securitySchemes.bearer).to.include({ type: 'http', scheme: 'bearer' })
    expect(document.components.schemas.FeathersError.required).to.include.members(['name', 'message', 'code', 'className'])
    const create = document.paths['/products'].post
    expect(create.requestBody.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/ProductData' })
    for (const status of ['400', '401', '403', '409', '413']) expect(create.responses, status).to.have.property(status)
    expect(document.paths['/products/{id}'].get.responses).to.have.property('404')
    expect(document.paths['/authentication'].post.responses).to.have.property('429')
    expect(document.paths['/products'].get.parameters.map((p: { name: string }) => p.name)).to.include.members(['price', 'title', '$limit', '$sort', '$select'])
  })

  it('describes real answers: a created product, a listing and a 401 validate against its response schemas', async () => {
    const created = await json(stack.base, 'POST', '/products', { title: 'Teapot', description: 'cast iron', price: 3900, currency: 'EUR', stock: 5 }, seller.token)
    expect(created.status).to.equal(201)
    expect(check('/products', 'post', 201, created.body)).to.deep.equal([])
    // The check can fail: a field the schema does not know is refused (the result schemas have no other fields).
    expect(check('/products', 'post', 201, { ...created.body, secret: 'x' })).to.not.deep.equal([])

    const got = await json(stack.base, 'GET', `/products/${created.body.id}`)
    expect(check('/products/{id}', 'get', 200, got.body)).to.deep.equal([])
    const listed = await json(stack.base, 'GET', `/products?sellerId=${seller.id}`)
    expect(listed.status).to.equal(200)
    expect(check('/products', 'get', 200, listed.body)).to.deep.equal([])

    const refused = await json(stack.base, 'POST', '/products', { title: 'x' })
    expect(refused.status).to.equal(401)
    expect(check('/products', 'post', 401, refused.body)).to.deep.equal([])
    expect(check('/products', 'post', 401, { ...refused.body, code: 500 })).to.not.deep.equal([])
  })
})
