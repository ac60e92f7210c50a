import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import { readEnv } from '../../shared/config/env.ts'
import { CliError } from '../lib/errors.ts'

interface RunningAppliance {
  stop(): Promise<void>
  /** settles when the appliance has ended; rejects when the gateway refuses the token */
  done: Promise<void>
}
type RunAppliance = (options: { url: string; token: string; out?: string }) => RunningAppliance

/** cli/appliance/ (the warehouse appliance simulator) is written separately; wired only when present. */
const applianceModule = fileURLToPath(new URL('../appliance/index.ts', import.meta.url))

export function registerAppliance(program: Command): void {
  if (!existsSync(applianceModule)) return
  program
    .command('appliance')
    .description('run a warehouse receipt appliance: print every new order of its seller once, across drops and restarts')
    .requiredOption('--token <token>', 'the appliance token (from POST /appliances)')
    .option('--out <dir>', 'where receipts are written')
    .option('--url <origin>', 'the public origin', `http://127.0.0.1:${readEnv().port}`)
    .action(async (options: { token: string; out?: string; url: string }) => {
      const module = (await import(pathToFileURL(applianceModule).href)) as { runAppliance?: RunAppliance }
      if (typeof module.runAppliance !== 'function') throw new CliError('cli/appliance/index.ts does not export runAppliance')
      const running = module.runAppliance({ url: options.url, token: options.token, out: options.out })
      const stop = () => void running.stop().catch(() => {})
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      try {
        await running.done
      } finally {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
      }
    })
}
