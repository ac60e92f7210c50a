import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { consumerTopology, type ConsumerDeclaration } from '../../shared/bus/consumer-topology.ts'
import { names } from '../../shared/bus/names.ts'
import { emptyTopology, mergeTopologies, type Topology } from '../../shared/bus/topology.ts'
import { serviceTable } from '../../shared/services.ts'
import { CliError } from '../lib/errors.ts'

/**
 * The declared topology, read from the services' code: each service's
 * `services/<name>/topology.ts` exports `consumers: ConsumerDeclaration[]`.
 * Services are looked up by the service table, so a service that adds its
 * topology file is picked up without touching the CLI; one without a file yet
 * is reported as missing rather than guessed.
 */
export interface Declarations {
  consumers: ConsumerDeclaration[]
  /** what they need on the broker in the namespace */
  topology: Topology
  /** services of the service table whose topology.ts was found */
  services: string[]
  /** services of the service table without a topology.ts */
  missing: string[]
}

const servicesDir = fileURLToPath(new URL('../../services/', import.meta.url))

export async function loadDeclarations(namespace: string, extraModules: string[] = []): Promise<Declarations> {
  const result: Declarations = { consumers: [], topology: emptyTopology(), services: [], missing: [] }
  for (const { name } of serviceTable) {
    const file = resolve(servicesDir, name, 'topology.ts')
    if (!existsSync(file)) {
      result.missing.push(name)
      continue
    }
    result.consumers.push(...(await importConsumers(file)))
    result.services.push(name)
  }
  for (const module of extraModules) {
    const file = isAbsolute(module) ? module : resolve(process.cwd(), module)
    if (!existsSync(file)) throw new CliError(`--declarations: no such file ${module}`)
    result.consumers.push(...(await importConsumers(file)))
  }
  result.topology = declaredTopology(namespace, result.consumers)
  return result
}

async function importConsumers(file: string): Promise<ConsumerDeclaration[]> {
  let module: { consumers?: unknown }
  try {
    module = (await import(pathToFileURL(file).href)) as { consumers?: unknown }
  } catch (err) {
    throw new CliError(`cannot load ${file}: ${(err as Error).message}`)
  }
  const consumers = module.consumers
  if (!Array.isArray(consumers) || !consumers.every(isDeclaration)) {
    throw new CliError(`${file} must export consumers: ConsumerDeclaration[] ({ service, purpose, bindings })`)
  }
  return consumers
}

function isDeclaration(value: unknown): value is ConsumerDeclaration {
  const d = value as ConsumerDeclaration
  return typeof d?.service === 'string' && typeof d.purpose === 'string' && Array.isArray(d.bindings)
}

/**
 * Everything the declared consumers need on the broker, plus the events
 * exchange and, when anything consumes, the control exchange their processes
 * listen on (each process's own control queue is per connection, not declared).
 */
function declaredTopology(namespace: string, consumers: ConsumerDeclaration[]): Topology {
  const exchanges: Topology['exchanges'] = [{ name: names.eventsExchange(namespace), type: 'topic' }]
  if (consumers.length) exchanges.push({ name: names.controlExchange(namespace), type: 'fanout' })
  return mergeTopologies({ exchanges, queues: [], bindings: [] }, ...consumers.map((declaration) => consumerTopology(namespace, declaration)))
}
