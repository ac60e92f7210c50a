import type { Command } from 'commander'
import type { Topology } from '../../shared/bus/topology.ts'
import { contextOf } from '../lib/context.ts'
import { CliError } from '../lib/errors.ts'
import { ManagementClient } from '../lib/management.ts'
import { note, printJson, printTable, type OutputOptions } from '../lib/output.ts'
import { loadDeclarations } from '../topology/registry.ts'
import { compareTopology } from '../topology/verify.ts'

export function registerTopology(program: Command): void {
  const topology = program.command('topology').description("the declared topology (from the services' topology.ts) and its check against the broker")

  topology
    .command('show')
    .description('print the declared exchanges, queues (with arguments) and bindings')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions, command: Command) => {
      const { context, declarations, declared } = await declaredIn(command)
      if (options.json) {
        return printJson({ namespace: context.namespace, services: declarations.services, servicesWithoutTopology: declarations.missing, ...declared })
      }
      printDeclared(declared)
      if (declarations.missing.length) note(`services without a topology.ts (nothing declared for them): ${declarations.missing.join(', ')}`)
    })

  topology
    .command('verify')
    .description('compare the declared topology with the broker (management API); exits non-zero naming each difference')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions, command: Command) => {
      const { context, declarations, declared } = await declaredIn(command)
      const management = new ManagementClient(context.managementUrl)
      const broker = {
        exchanges: await management.exchanges(context.namespace),
        queues: await management.queues(context.namespace),
        bindings: await management.bindings(context.namespace)
      }
      const differences = compareTopology(declared, broker)
      const declaredQueues = new Set(declared.queues.map((q) => q.name))
      const undeclaredQueues = broker.queues.map((q) => q.name).filter((name) => !declaredQueues.has(name))
      const counts = `${declared.exchanges.length} exchanges, ${declared.queues.length} queues, ${declared.bindings.length} bindings`
      if (options.json) {
        printJson({ namespace: context.namespace, ok: differences.length === 0, differences, undeclaredQueues, servicesWithoutTopology: declarations.missing })
      } else if (differences.length === 0) {
        process.stdout.write(`topology of namespace ${context.namespace} matches the broker (${counts})\n`)
      } else {
        for (const d of differences) process.stdout.write(`${d.problem === 'missing' ? 'MISSING' : 'DRIFT  '} ${d.detail}\n`)
      }
      if (!options.json && undeclaredQueues.length) note(`on the broker but not declared (not checked): ${undeclaredQueues.join(', ')}`)
      if (differences.length) {
        throw new CliError(`topology drift in namespace ${context.namespace}: ${differences.map((d) => d.detail).join('; ')}`)
      }
    })
}

async function declaredIn(command: Command) {
  const context = contextOf(command)
  const declarations = await loadDeclarations(context.namespace, command.optsWithGlobals().declarations)
  return { context, declarations, declared: declarations.topology }
}

function printDeclared(declared: Topology): void {
  const args = (a: Record<string, unknown> | undefined) =>
    Object.entries(a ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n')
  printTable(['exchange', 'type', 'arguments'], declared.exchanges.map((e) => [e.name, e.type, args(e.arguments)]), { title: 'Exchanges' })
  printTable(['queue', 'service', 'purpose', 'arguments'], declared.queues.map((q) => [q.name, q.service, q.purpose, args(q.arguments)]), { title: 'Queues' })
  printTable(['exchange', 'queue', 'routing key'], declared.bindings.map((b) => [b.exchange, b.queue, b.routingKey]), { title: 'Bindings' })
}
