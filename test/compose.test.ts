import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import YAML from 'yaml'

/**
 * No Docker engine runs where the suite runs, so docker-compose.yml and the edge's Caddyfile are
 * checked by reading them: the stack they describe must match the services and routes of contract.md.
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string) => readFileSync(root + path, 'utf8')

interface ComposeService {
  image?: string
  build?: string | { context?: string; dockerfile?: string; target?: string }
  command?: string | string[]
  environment?: Record<string, string | number | null> | string[]
  depends_on?: string[] | Record<string, { condition?: string }>
  ports?: Array<string | { target?: number; published?: string | number }>
  volumes?: Array<string | { source?: string; target?: string }>
  healthcheck?: { test?: string | string[] }
  profiles?: string[]
}

interface ComposeFile {
  services: Record<string, ComposeService>
}

/** service name -> its internal port and the public paths it owns (the gateway owns the rest). */
const SERVICES: Record<string, { port: number; paths: string[] }> = {
  users: { port: 3031, paths: ['/users', '/authentication'] },
  notifications: { port: 3032, paths: ['/notifications'] },
  benefits: { port: 3033, paths: ['/balances'] },
  segments: { port: 3034, paths: ['/segments'] },
  chat: { port: 3035, paths: ['/chatrooms'] },
  catalog: { port: 3036, paths: ['/products'] },
  orders: { port: 3037, paths: ['/orders', '/claims'] },
  reference: { port: 3038, paths: ['/countries', '/currencies', '/flags'] },
  storefronts: { port: 3039, paths: ['/storefronts'] },
  fulfilment: { port: 3041, paths: ['/deliveries', '/invoices'] },
  subscriptions: { port: 3042, paths: ['/subscriptions'] },
  payments: { port: 3040, paths: ['/payments'] },
  gateway: { port: 3030, paths: ['/events', '/appliances', '/maintenance-notices', '/health'] }
}

function environmentOf(service: ComposeService): Record<string, string | null> {
  const env = service.environment ?? {}
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=')
        return at < 0 ? [entry, null] : [entry.slice(0, at), entry.slice(at + 1)]
      })
    )
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? null : String(value)]))
}

function healthyDependencies(service: ComposeService): string[] {
  const deps = service.depends_on
  if (!deps || Array.isArray(deps)) return []
  return Object.entries(deps)
    .filter(([, spec]) => spec?.condition === 'service_healthy')
    .map(([name]) => name)
}

function publishedPorts(service: ComposeService): string[] {
  return (service.ports ?? []).map((port) =>
    typeof port === 'string' ? (port.split(':').slice(-2, -1)[0] ?? '') : String(port.published ?? '')
  )
}

/** A loose reading of the Caddyfile: named path matchers, then `handle` blocks and their upstream. */
function caddyRoutes(text: string): { routes: Map<string, string>; fallback?: string; flushed: Set<string> } {
  const lines = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
  const matchers = new Map<string, string[]>()
  for (const line of lines) {
    const match = /^(@[\w-]+)\s+path\s+(.+)$/.exec(line)
    if (match) matchers.set(match[1], match[2].split(/\s+/))
  }
  const routes = new Map<string, string>()
  const flushed = new Set<string>()
  let fallback: string | undefined
  for (let i = 0; i < lines.length; i++) {
    const handle = /^handle(?:\s+(\S+))?\s*\{$/.exec(lines[i])
    if (!handle) continue
    let upstream: string | undefined
    let flush = false
    for (let depth = 1, j = i + 1; j < lines.length && depth > 0; j++) {
      const proxy = /^reverse_proxy\s+(\S+)/.exec(lines[j])
      if (proxy && !upstream) upstream = proxy[1]
      if (/^flush_interval\s+-1$/.test(lines[j])) flush = true
      if (lines[j].endsWith('{')) depth++
      if (lines[j] === '}') depth--
    }
    if (!upstream) continue
    const matcher = handle[1]
    if (matcher === undefined) {
      fallback = upstream
      continue
    }
    const paths = matcher.startsWith('@') ? (matchers.get(matcher) ?? []) : [matcher]
    for (const path of paths) {
      routes.set(path, upstream)
      if (flush) flushed.add(path)
    }
  }
  return { routes, fallback, flushed }
}

describe('docker compose stack (read, not run)', () => {
  const text = read('docker-compose.yml')
  const doc = YAML.parseDocument(text, { merge: true })
  const compose = doc.toJS() as ComposeFile
  const services = compose.services ?? {}

  it('parses as YAML without errors or warnings', () => {
    expect(doc.errors.map(String)).to.deep.equal([])
    expect(doc.warnings.map(String)).to.deep.equal([])
    expect(services).to.be.an('object')
  })

  it('runs RabbitMQ 4 with the management plugin, healthchecked, AMQP and management ports published', () => {
    const rabbit = services.rabbitmq
    expect(rabbit, 'rabbitmq service').to.exist
    expect(rabbit.image).to.match(/^rabbitmq:4(\.\d+)*-management(-alpine)?$/)
    expect(rabbit.healthcheck?.test, 'rabbitmq healthcheck').to.exist
    expect(publishedPorts(rabbit)).to.include.members(['5672', '15672'])
  })

  it('runs a current PostgreSQL with the bazaar database, healthchecked', () => {
    const postgres = services.postgres
    expect(postgres, 'postgres service').to.exist
    const major = Number(/^postgres:(\d+)/.exec(postgres.image ?? '')?.[1])
    expect(major, `postgres image ${postgres.image}`).to.be.at.least(16)
    expect(environmentOf(postgres).POSTGRES_DB).to.equal('bazaar')
    expect(postgres.healthcheck?.test, 'postgres healthcheck').to.exist
  })

  it('runs mailpit as the SMTP server the services send to', () => {
    expect(services.mailpit?.image).to.match(/^axllent\/mailpit/)
    for (const name of Object.keys(SERVICES)) {
      expect(environmentOf(services[name]).SMTP_URL, name).to.equal('smtp://mailpit:1025')
    }
  })

  for (const [name, { port }] of Object.entries(SERVICES)) {
    it(`runs the ${name} service from deploy/Dockerfile once broker and database are healthy`, () => {
      const service = services[name]
      expect(service, `${name} service`).to.exist
      const build = typeof service.build === 'string' ? { context: service.build } : service.build
      expect(build?.dockerfile, `${name} build`).to.equal('deploy/Dockerfile')
      expect(build?.context ?? '.').to.equal('.')
      const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '')
      expect(command).to.include(`services/${name}/index.ts`)
      expect(healthyDependencies(service)).to.include.members(['rabbitmq', 'postgres'])
      const env = environmentOf(service)
      expect(env.AMQP_URL).to.match(/^amqp:\/\/[^@]+@rabbitmq:5672/)
      expect(env.DATABASE_URL).to.match(/^postgres(ql)?:\/\/[^@]+@postgres:5432\/bazaar$/)
      expect(env.PORT).to.equal(String(port))
    })
  }

  it('points the gateway at every service by its compose hostname and port', () => {
    const env = environmentOf(services.gateway)
    for (const [name, { port }] of Object.entries(SERVICES)) {
      if (name === 'gateway') continue
      expect(env[`${name.toUpperCase()}_URL`], `${name.toUpperCase()}_URL`).to.equal(`http://${name}:${port}`)
    }
  })

  it('publishes the public origin on 3030 from an off-the-shelf edge proxy', () => {
    const edge = services.edge
    expect(edge, 'edge service').to.exist
    expect(edge.image).to.match(/^(caddy|traefik):/)
    expect(publishedPorts(edge)).to.include('3030')
    const published = Object.entries(services).filter(([, service]) => publishedPorts(service).includes('3030'))
    expect(published.map(([name]) => name)).to.deep.equal(['edge'])
  })

  it('has a test service, behind the test profile, that runs npm test against the compose broker and database', () => {
    const test = services.test
    expect(test, 'test service').to.exist
    expect(test.profiles).to.include('test')
    const command = Array.isArray(test.command) ? test.command.join(' ') : (test.command ?? '')
    expect(command).to.equal('npm test')
    expect(healthyDependencies(test)).to.include.members(['rabbitmq', 'postgres'])
    const env = environmentOf(test)
    expect(env.AMQP_URL).to.include('@rabbitmq:5672')
    expect(env.DATABASE_URL).to.include('@postgres:5432/')
  })

  describe('metrics: Prometheus and Grafana', () => {
    const mounts = (service?: ComposeService) =>
      (service?.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`))
    const prometheusYml = YAML.parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }>
    }

    it('runs Prometheus with deploy/prometheus/prometheus.yml', () => {
      const prometheus = services.prometheus
      expect(prometheus, 'prometheus service').to.exist
      expect(prometheus.image).to.match(/^prom\/prometheus:/)
      expect(mounts(prometheus).some((m) => m.startsWith('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml'))).to.equal(true)
    })

    it('scrapes /metrics on every service at its compose hostname and internal port', () => {
      const targets = prometheusYml.scrape_configs.flatMap((job) =>
        (job.metrics_path ?? '/metrics') === '/metrics' ? job.static_configs.flatMap((c) => c.targets) : []
      )
      expect(targets).to.have.members(Object.entries(SERVICES).map(([name, { port }]) => `${name}:${port}`))
    })

    it('runs Grafana with the Prometheus data source and the dashboards provisioned', () => {
      const grafana = services.grafana
      expect(grafana, 'grafana service').to.exist
      expect(grafana.image).to.match(/^grafana\/grafana(-oss)?:/)
      expect(mounts(grafana)).to.include.members([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro'
      ])
      const datasources = YAML.parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ type: string; url: string }> }
      expect(datasources.datasources).to.deep.include.members([{ ...datasources.datasources[0], type: 'prometheus', url: 'http://prometheus:9090' }])
      const providers = YAML.parse(read('deploy/grafana/provisioning/dashboards/bazaar.yml')) as { providers: Array<{ options: { path: string } }> }
      expect(providers.providers.map((p) => p.options.path)).to.include('/var/lib/grafana/dashboards')
    })

    it("charts only families the services export, from the provisioned data source", () => {
      const dashboard = JSON.parse(read('deploy/grafana/dashboards/bazaar.json')) as {
        panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>
      }
      const exported = new Set(
        ['bus', 'inbox', 'jobs', 'kv', 'sse', 'tables'].flatMap((file) => [...read(`shared/metrics/${file}.ts`).matchAll(/name: '(bazaar_\w+)'/g)].map((m) => m[1]))
      )
      expect(exported.size).to.be.at.least(10)
      const charted = new Set<string>()
      for (const panel of dashboard.panels) {
        expect(panel.datasource.uid, panel.title).to.equal('bazaar-prometheus')
        for (const target of panel.targets) {
          for (const [name] of target.expr.matchAll(/bazaar_\w+/g)) charted.add(name.replace(/_(bucket|count|sum)$/, ''))
        }
      }
      for (const name of charted) expect(exported.has(name), `${name} is charted but not exported`).to.equal(true)
      for (const name of exported) expect(charted.has(name), `${name} is exported but not charted`).to.equal(true)
    })
  })

  describe('edge Caddyfile', () => {
    const caddyfile = read('deploy/caddy/Caddyfile')
    const { routes, fallback, flushed } = caddyRoutes(caddyfile)

    it('is the file the edge service mounts', () => {
      const mounts = (services.edge?.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`))
      expect(mounts.some((mount) => mount.startsWith('./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile'))).to.equal(true)
    })

    it('routes every REST path, and its sub-paths, to the service that owns it', () => {
      for (const [name, { port, paths }] of Object.entries(SERVICES)) {
        if (name === 'gateway') continue
        for (const path of paths) {
          expect(routes.get(path), path).to.equal(`${name}:${port}`)
          expect(routes.get(`${path}/*`), `${path}/*`).to.equal(`${name}:${port}`)
        }
      }
    })

    it('streams /events from the gateway without buffering and sends everything else to the gateway', () => {
      expect(routes.get('/events')).to.equal('gateway:3030')
      expect(flushed.has('/events')).to.equal(true)
      expect(fallback).to.equal('gateway:3030')
      for (const path of ['/appliances', '/maintenance-notices', '/health']) {
        expect(routes.has(path), `${path} goes to the fallback`).to.equal(false)
      }
    })

    it('answers /metrics itself (404) instead of passing the internal metrics to the public', () => {
      expect(routes.has('/metrics')).to.equal(false)
      expect(caddyfile).to.match(/handle \/metrics \{\s*respond 404\s*\}/)
    })
  })
})
