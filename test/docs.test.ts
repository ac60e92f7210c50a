import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { contracts, routingKeys } from '../shared/contracts/index.ts'
import { checkAsyncapi, topicMatches, writeDocs } from '../scripts/docs.ts'

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
