import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import YAML from 'yaml'
import { serviceTable } from '../shared/services.ts'

/**
 * No Kubernetes cluster runs where the suite runs, so deploy/kubernetes is checked by reading it:
 * every document parses, every microservice of shared/services.ts is deployed with health probes and
 * a Service, the kustomizations point only at files that exist, and the broker and database are
 * clustered. Where kubectl is installed, the production overlay is also rendered with its kustomize.
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const k8sDir = join(root, 'deploy/kubernetes')

interface K8sObject {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }
  spec?: Record<string, any>
  data?: Record<string, string>
}

interface Loaded {
  file: string
  object: K8sObject
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return yamlFiles(path)
    return /\.ya?ml$/.test(entry) ? [path] : []
  })
}

const files = yamlFiles(k8sDir)
const parsed = files.map((file) => ({ file, docs: YAML.parseAllDocuments(readFileSync(file, 'utf8')) }))
const loaded: Loaded[] = parsed.flatMap(({ file, docs }) =>
  docs
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object')
    .map((object) => ({ file: relative(k8sDir, file), object }))
)

const inBase = (entry: Loaded) => entry.file.startsWith('base/')
const ofKind = (kind: string, from: Loaded[] = loaded) => from.filter((entry) => entry.object.kind === kind)
const named = (kind: string, name: string, from: Loaded[] = loaded) =>
  ofKind(kind, from).filter((entry) => entry.object.metadata?.name === name)
const containerOf = (deployment: K8sObject) => deployment.spec?.template?.spec?.containers?.[0] ?? {}

describe('Kubernetes manifests (read, not applied)', () => {
  it('has manifests, a base and a production overlay', () => {
    expect(files.length, 'YAML files under deploy/kubernetes').to.be.greaterThan(0)
    expect(existsSync(join(k8sDir, 'base/kustomization.yaml'))).to.equal(true)
    expect(existsSync(join(k8sDir, 'overlays/production/kustomization.yaml'))).to.equal(true)
    expect(existsSync(join(k8sDir, 'README.md'))).to.equal(true)
  })

  it('parses every YAML document without errors or warnings', () => {
    for (const { file, docs } of parsed) {
      for (const doc of docs) {
        expect(doc.errors.map(String), relative(root, file)).to.deep.equal([])
        expect(doc.warnings.map(String), relative(root, file)).to.deep.equal([])
      }
    }
    for (const { file, object } of loaded) {
      expect(object.kind, `${file}: kind`).to.be.a('string')
      if (object.kind !== 'Kustomization') expect(object.metadata?.name, `${file}: metadata.name`).to.be.a('string')
    }
  })

  it('lists in every kustomization.yaml only files and directories that exist', () => {
    const kustomizations = files.filter((file) => /(^|\/)kustomization\.ya?ml$/.test(file))
    expect(kustomizations.length).to.be.at.least(2)
    for (const file of kustomizations) {
      const k = YAML.parse(readFileSync(file, 'utf8')) as Record<string, any>
      const here = dirname(file)
      const listed: string[] = [
        ...(k.resources ?? []),
        ...(k.components ?? []),
        ...(k.patchesStrategicMerge ?? []),
        ...(k.patches ?? []).map((p: { path?: string }) => p.path).filter(Boolean),
        ...[...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])].flatMap((g: { files?: string[]; envs?: string[] }) => [
          ...(g.files ?? []).map((f) => f.replace(/^[^=]*=/, '')),
          ...(g.envs ?? [])
        ])
      ]
      expect(listed.length, relative(root, file)).to.be.greaterThan(0)
      for (const entry of listed) {
        expect(entry, `${relative(root, file)} lists a remote or absolute path`).to.not.match(/^(\/|[a-z]+:\/\/)/)
        const path = join(here, entry)
        expect(existsSync(path), `${relative(root, file)} lists ${entry}, which does not exist`).to.equal(true)
        if (statSync(path).isDirectory()) {
          expect(existsSync(join(path, 'kustomization.yaml')), `${entry} is a directory without kustomization.yaml`).to.equal(true)
        }
      }
    }
  })

  it('puts every manifest in the base under deploy/kubernetes into its kustomization', () => {
    const k = YAML.parse(readFileSync(join(k8sDir, 'base/kustomization.yaml'), 'utf8')) as { resources: string[] }
    const baseFiles = files
      .map((file) => relative(join(k8sDir, 'base'), file))
      .filter((file) => !file.startsWith('..') && file !== 'kustomization.yaml')
    expect(k.resources).to.have.members(baseFiles)
  })

  for (const service of serviceTable) {
    describe(`microservice ${service.name}`, () => {
      const deployments = named('Deployment', service.name)

      it('has one Deployment that runs it from the one image, with readiness, liveness and startup probes on /health', () => {
        expect(deployments, `Deployment ${service.name}`).to.have.length(1)
        const deployment = deployments[0].object
        const container = containerOf(deployment)
        expect(container.image).to.equal('bazaar')
        expect(container.command).to.deep.equal(['node', '--import', 'tsx', `services/${service.name}/index.ts`])
        const port = (container.ports ?? []).find((p: { name?: string }) => p.name === 'http')
        expect(port?.containerPort, 'containerPort').to.equal(service.port)
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          expect(container[probe]?.httpGet?.path, `${probe} path`).to.equal('/health')
          expect([service.port, 'http'], `${probe} port`).to.include(container[probe]?.httpGet?.port)
        }
        const selector = deployment.spec?.selector?.matchLabels ?? {}
        expect(Object.keys(selector).length).to.be.greaterThan(0)
        expect(deployment.spec?.template?.metadata?.labels).to.include(selector)
      })

      it('listens on the port shared/services.ts gives it, from the variable the service reads', () => {
        const env: Array<{ name: string; value?: string }> = containerOf(deployments[0].object).env ?? []
        const variable = service.name === 'gateway' ? 'PORT' : `${service.name.toUpperCase()}_PORT`
        expect(env.find((e) => e.name === variable)?.value, variable).to.equal(String(service.port))
      })

      it('has a Service of the same name selecting its pods on its port', () => {
        const services = named('Service', service.name)
        expect(services, `Service ${service.name}`).to.have.length(1)
        const spec = services[0].object.spec ?? {}
        expect(deployments[0].object.spec?.template?.metadata?.labels).to.include(spec.selector)
        expect(spec.ports?.map((p: { port: number }) => p.port)).to.include(service.port)
      })

      it('runs two or more replicas (its own or its autoscaler\'s minimum) under a PodDisruptionBudget', () => {
        const deployment = deployments[0].object
        const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.object.spec?.scaleTargetRef?.name === service.name)
        const minimum = deployment.spec?.replicas ?? hpa?.object.spec?.minReplicas ?? 1
        expect(minimum, 'replicas').to.be.at.least(2)
        if (hpa) expect(deployment.spec?.replicas, 'replicas next to an autoscaler').to.equal(undefined)
        const selector = deployment.spec?.selector?.matchLabels
        const pdb = ofKind('PodDisruptionBudget').find((p) => JSON.stringify(p.object.spec?.selector?.matchLabels) === JSON.stringify(selector))
        expect(pdb, `PodDisruptionBudget for ${service.name}`).to.exist
      })

      it('has resources, a grace period for its shutdown and its env from the ConfigMap, a Secret and the operators\' credentials', () => {
        const deployment = deployments[0].object
        const pod = deployment.spec?.template?.spec ?? {}
        const container = containerOf(deployment)
        expect(container.resources?.requests?.cpu, 'cpu request').to.exist
        expect(container.resources?.requests?.memory, 'memory request').to.exist
        expect(container.resources?.limits?.memory, 'memory limit').to.exist
        // shared/feathers/run.ts forces an exit 20 s after SIGTERM; a preStop hook runs before it.
        expect(pod.terminationGracePeriodSeconds).to.be.at.least(30)
        const envFrom = container.envFrom ?? []
        expect(envFrom.some((e: any) => e.configMapRef?.name === 'bazaar-config'), 'envFrom ConfigMap').to.equal(true)
        expect(envFrom.some((e: any) => e.secretRef?.name === 'bazaar-secrets'), 'envFrom Secret').to.equal(true)
        const env: any[] = container.env ?? []
        const amqp = env.find((e) => e.name === 'AMQP_URL')?.valueFrom?.secretKeyRef
        const database = env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef
        expect(amqp, 'AMQP_URL').to.deep.equal({ name: 'bazaar-rabbitmq-default-user', key: 'connection_string' })
        expect(database, 'DATABASE_URL').to.deep.equal({ name: 'bazaar-postgres-app', key: 'uri' })
      })
    })
  }

  it('names in the operators\' credentials the RabbitmqCluster and the CloudNativePG Cluster it defines', () => {
    expect(named('RabbitmqCluster', 'bazaar-rabbitmq', loaded.filter(inBase))).to.have.length(1)
    expect(named('Cluster', 'bazaar-postgres', loaded.filter(inBase))).to.have.length(1)
  })

  it('runs a RabbitMQ 4 cluster of at least three nodes with the management plugin', () => {
    const clusters = ofKind('RabbitmqCluster')
    expect(clusters.length).to.be.greaterThan(0)
    for (const { file, object } of clusters) {
      expect(object.apiVersion, file).to.equal('rabbitmq.com/v1beta1')
      if (object.spec?.replicas !== undefined) expect(object.spec.replicas, file).to.be.at.least(3)
      if (object.spec?.image !== undefined) expect(object.spec.image, file).to.match(/^rabbitmq:4(\.\d+)*-management$/)
    }
    const base = clusters.filter(inBase)[0].object
    expect(base.spec?.replicas).to.be.at.least(3)
    expect(base.spec?.image).to.match(/^rabbitmq:4/)
  })

  it('runs a CloudNativePG cluster of at least three instances with the database bazaar', () => {
    const clusters = ofKind('Cluster').filter((c) => c.object.apiVersion === 'postgresql.cnpg.io/v1')
    expect(clusters.length).to.be.greaterThan(0)
    for (const { file, object } of clusters) {
      if (object.spec?.instances !== undefined) expect(object.spec.instances, file).to.be.at.least(3)
    }
    const base = clusters.filter(inBase)[0].object
    expect(base.spec?.instances).to.be.at.least(3)
    expect(base.spec?.bootstrap?.initdb?.database).to.equal('bazaar')
  })

  it('autoscales the gateway and orders', () => {
    for (const name of ['gateway', 'orders']) {
      const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.object.spec?.scaleTargetRef?.name === name)
      expect(hpa, `HorizontalPodAutoscaler for ${name}`).to.exist
      expect(hpa!.object.apiVersion).to.equal('autoscaling/v2')
      expect(hpa!.object.spec?.scaleTargetRef?.kind).to.equal('Deployment')
      expect(hpa!.object.spec?.maxReplicas).to.be.greaterThan(hpa!.object.spec?.minReplicas)
    }
  })

  it('routes every public path to the service that owns it, /events without a request timeout', () => {
    const routes = ofKind('HTTPRoute').filter(inBase)
    expect(routes).to.have.length(1)
    const rules: any[] = routes[0].object.spec?.rules ?? []
    const owner = new Map<string, any>()
    for (const rule of rules) {
      for (const match of rule.matches ?? []) owner.set(match.path?.value, rule)
    }
    for (const service of serviceTable) {
      if (service.name === 'gateway') continue
      for (const path of service.paths) {
        const rule = owner.get(`/${path}`)
        expect(rule, `route for /${path}`).to.exist
        expect(rule.backendRefs?.[0]).to.include({ name: service.name, port: service.port })
      }
    }
    const gatewayPort = serviceTable.find((s) => s.name === 'gateway')!.port
    expect(owner.get('/')?.backendRefs?.[0]).to.include({ name: 'gateway', port: gatewayPort })
    const events = owner.get('/events')
    expect(events?.backendRefs?.[0]).to.include({ name: 'gateway', port: gatewayPort })
    expect(events?.timeouts?.request).to.equal('0s')
  })

  it('renders the production overlay with kubectl kustomize, where kubectl is installed', function () {
    let rendered: string
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
    } catch {
      this.skip()
    }
    rendered = execFileSync('kubectl', ['kustomize', join(k8sDir, 'overlays/production')], { encoding: 'utf8' })
    const objects = YAML.parseAllDocuments(rendered).map((doc) => doc.toJS() as K8sObject)
    const namespaced = objects.filter((o) => o.kind !== 'Namespace')
    expect(namespaced.every((o) => o.metadata?.namespace === 'bazaar'), 'everything in namespace bazaar').to.equal(true)
    const images = objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.spec?.template?.spec?.containers?.[0]?.image)
    expect(images).to.have.length(serviceTable.length)
    expect(new Set(images).size, 'one image for every service').to.equal(1)
    expect(images[0]).to.not.equal('bazaar')
  })
})
