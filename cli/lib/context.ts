import type { Command } from 'commander'
import { readEnv, type BazaarEnv } from '../../shared/config/env.ts'
import { defaultManagementUrl } from '../../shared/ops/management.ts'
import { usageError } from './errors.ts'

/** Options every command accepts (defined on the program, usable before or after the command). */
export interface GlobalOptions {
  namespace?: string
  managementUrl?: string
}

export interface CliContext {
  env: BazaarEnv
  namespace: string
  /** RabbitMQ management HTTP API, credentials included */
  managementUrl: string
}

/** The environment of contract.md, with `--namespace` taking precedence over BAZAAR_NAMESPACE. */
export function contextOf(command: Command): CliContext {
  const globals = command.optsWithGlobals<GlobalOptions>()
  let env: BazaarEnv
  try {
    env = readEnv({ ...process.env, ...(globals.namespace ? { BAZAAR_NAMESPACE: globals.namespace } : {}) })
  } catch (err) {
    throw usageError((err as Error).message.replace('BAZAAR_NAMESPACE', globals.namespace ? '--namespace' : 'BAZAAR_NAMESPACE'))
  }
  return {
    env,
    namespace: env.namespace,
    managementUrl: globals.managementUrl || process.env.RABBITMQ_MANAGEMENT_URL || defaultManagementUrl(env.amqpUrl)
  }
}


/** Parses a positive integer option value (commander's argParser). */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n <= 0) throw usageError(`${name} must be a positive integer (got ${JSON.stringify(value)})`)
    return n
  }
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0) throw usageError(`${name} must be a positive number (got ${JSON.stringify(value)})`)
    return n
  }
}
