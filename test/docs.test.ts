import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { feathers, type HookContext } from '@feathersjs/feathers'
import YAML from 'yaml'
import { contracts, PRODUCT_CREATED, routingKeys, USER_REGISTERED } from '../shared/contracts/index.ts'
import type { ServiceApp } from '../shared/feathers/declarations.ts'
import { emit } from '../shared/feathers/transaction.ts'
import { requireManifestRole } from '../shared/manifest/access.ts'
import { defineResource, externalMethodsOf, manifestOf, serviceOptions } from '../shared/manifest/resource.ts'
import { serviceTable } from '../shared/services.ts'
import { testEnv, uniqueNamespace } from '../shared/testing/index.ts'
import { topicMatches } from '../shared/bus/topic.ts'
import { checkAsyncapi, writeDocs } from '../scripts/docs.ts'
import { loadManifests } from '../scripts/docs/manifests.ts'

const docsDir = fileURLToPath(new URL('../docs/', import.meta.url))
const generatedFiles = ['api.md', 'events.md', 'asyncapi.yaml', 'openapi.json']

/** Where two texts first differ, as a readable hint instead of a diff of whole files. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split('\n')
  const b = fresh.split('\n')
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}`
  }
  return 'no difference'
}

describe('Generated API and event documentation', function () {
  let outDir: string
  const fresh: Record<string, string> = {}

  before(async function () {
    outDir = mkdtempSync(join(tmpdir(), 'bazaar-docs-'))
    await writeDocs(outDir)
    for (const name of generatedFiles) fresh[name] = readFileSync(join(outDir, name), 'utf8')
  })

  after(function () {
    if (outDir) rmSync(outDir, { recursive: true, force: true })
  })

  for (const name of generatedFiles) {
    it(`docs/${name} is exactly what scripts/docs.ts generates from the code (run \`npx tsx scripts/docs.ts\` after changing it)`, function () {
      const committed = readFileSync(join(docsDir, name), 'utf8')
      expect(committed === fresh[name], `docs/${name} has drifted from the code; first difference at ${firstDifference(committed, fresh[name])}`).to.equal(true)
    })
  }

  it('generating again gives the same bytes (no timestamps or random ids)', async function () {
    const again = mkdtempSync(join(tmpdir(), 'bazaar-docs-'))
    try {
      await writeDocs(again)
      for (const name of generatedFiles) expect(readFileSync(join(again, name), 'utf8'), name).to.equal(fresh[name])
    } finally {
      rmSync(again, { recursive: true, force: true })
    }
  })

  it('every routing key in contracts has its section in events.md, with its payload schema named', function () {
    for (const key of routingKeys) {
      expect(fresh['events.md'], key).to.include(`## \`${key}\``)
      const id = (contracts[key] as { $id?: string }).$id
      if (id) expect(fresh['events.md'], `${key} payload`).to.include(`### Payload \`${id}\``)
    }
  })

  it('every routing key in contracts is a channel of asyncapi.yaml with a message and a payload schema', function () {
    const doc = YAML.parse(fresh['asyncapi.yaml']) as {
      channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>
      components: { messages: Record<string, { payload: { $ref: string } }>; schemas: Record<string, unknown> }
      operations: Record<string, { action: string; channel: { $ref: string } }>
    }
    for (const key of routingKeys) {
      expect(doc.channels[key]?.address, key).to.equal(key)
      const message = doc.components.messages[key]
      expect(message, `message ${key}`).to.exist
      const schemaName = message.payload.$ref.replace('#/components/schemas/', '')
      expect(doc.components.schemas[schemaName], `payload schema of ${key}`).to.be.an('object')
    }
    const sent = new Set(Object.values(doc.operations).filter((o) => o.action === 'send').map((o) => o.channel.$ref))
    for (const key of routingKeys) expect(sent.has(`#/channels/${key}`), `some service or the CLI sends ${key}`).to.equal(true)
  })

  it('asyncapi.yaml is an AsyncAPI 3.0 document whose references all resolve', function () {
    expect(checkAsyncapi(fresh['asyncapi.yaml'])).to.deep.equal([])
    expect(checkAsyncapi(fresh['asyncapi.yaml'].replace('#/components/messages/user.registered', '#/components/messages/nope'))).to.have.length.greaterThan(0)
  })

  it('matches consumers to routing keys with AMQP topic rules', function () {
    expect(topicMatches('user.#', 'user.registered')).to.equal(true)
    expect(topicMatches('user.#', 'user')).to.equal(true)
    expect(topicMatches('#', 'order.created')).to.equal(true)
    expect(topicMatches('product.*', 'product.updated')).to.equal(true)
    expect(topicMatches('product.*', 'product.updated.late')).to.equal(false)
    expect(topicMatches('*.created', 'order.created')).to.equal(true)
    expect(topicMatches('*.created', 'claim.opened')).to.equal(false)
    expect(topicMatches('order.created', 'order.created')).to.equal(true)
    expect(topicMatches('#.created', 'a.b.created')).to.equal(true)
  })
})

describe('Resource manifests: what the docs render is what the code enforces', function () {
  const ns = uniqueNamespace('manifests')
  const apps = new Map<string, ServiceApp>()

  before(async function () {
    for (const { name } of serviceTable) {
      const { createApp } = (await import(`../services/${name}/app.ts`)) as { createApp: (env: ReturnType<typeof testEnv>) => ServiceApp }
      apps.set(name, createApp(testEnv(ns)))
    }
  })

  after(async function () {
    // the apps were never set up: only their lazily created database pools are to close
    for (const app of apps.values()) await app.get('db').destroy()
  })

  it('every resource of every service is registered with its manifest, answering exactly the methods it declares', async function () {
    const manifests = await loadManifests()
    expect([...manifests.keys()], 'public paths with a manifest').to.not.be.empty
    for (const [path, { service, manifest }] of manifests) {
      const registered = apps.get(service)!.service(path)
      expect(manifestOf(registered), `/${path} registered with its manifest`).to.equal(manifest)
      expect(externalMethodsOf(registered), `the methods /${path} answers from outside`).to.deep.equal([...manifest.methods])
    }
  })

  function thingsApp(emitted: typeof PRODUCT_CREATED | typeof USER_REGISTERED, withManifest = true) {
    const manifest = defineResource({
      path: 'things',
      methods: ['create', 'patch'],
      access: { create: { who: 'sellers', roles: ['seller'] }, patch: { who: 'anyone' } },
      emits: { create: [USER_REGISTERED] }
    })
    const app = feathers()
    const service = { create: async (data: object) => data, patch: async (_id: string, data: object) => data }
    app.use('things', service, withManifest ? serviceOptions(manifest) : { methods: ['create', 'patch'] })
    app.service('things').hooks({
      before: { create: [requireManifestRole(manifest)], patch: [requireManifestRole(manifest)] },
      after: { create: [async (context: HookContext) => void (await emit(context as never, emitted, {} as never))] }
    } as never)
    return app.service('things')
  }

  const refusal = async (call: Promise<unknown>) => call.then(() => undefined, (err: Error) => err)

  it('emit() refuses a routing key the resource did not declare for the method', async function () {
    const err = await refusal(thingsApp(PRODUCT_CREATED).create({}, { provider: 'rest', caller: { id: 'u', role: 'seller' } }))
    expect(err?.message).to.match(/manifest of \/things does not declare it for create/)
  })

  it('emit() accepts a declared routing key (here it then asks for its transaction)', async function () {
    const err = await refusal(thingsApp(USER_REGISTERED).create({}, { provider: 'rest', caller: { id: 'u', role: 'seller' } }))
    expect(err?.message).to.match(/needs the transactional\(\) hook/)
  })

  it('emit() refuses to emit from a resource registered without a manifest', async function () {
    const err = await refusal(thingsApp(USER_REGISTERED, false).create({}, { provider: 'rest', caller: { id: 'u', role: 'seller' } }))
    expect(err?.message).to.match(/has no manifest/)
  })

  it('the role check is the one the manifest declares, and a method declaring no roles is not left open', async function () {
    const buyer = await refusal(thingsApp(USER_REGISTERED).create({}, { provider: 'rest', caller: { id: 'u', role: 'buyer' } }))
    expect(buyer?.name).to.equal('Forbidden')
    const anonymous = await refusal(thingsApp(USER_REGISTERED).create({}, { provider: 'rest' }))
    expect(anonymous?.name).to.equal('Forbidden')
    const noRoles = await refusal(thingsApp(USER_REGISTERED).patch('1', {}, { provider: 'rest', caller: { id: 'u', role: 'admin' } }))
    expect(noRoles?.message).to.match(/patch declares no roles/)
  })
})
