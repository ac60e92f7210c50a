import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Seller } from './load.ts'
import { Supervised } from './supervisor.ts'

export interface ApplianceSetting {
  /** the repository root (the CLI is started from it) */
  root: string
  /** the run's directory: receipts go to `<workDir>/receipts/<sellerId>` */
  workDir: string
  /** the public origin the appliances stream from */
  base: string
  env: NodeJS.ProcessEnv
  logDir: string
}

/**
 * One reference appliance per seller (`bazaar appliance`), printing into a directory of its own. Each is added
 * to `into` as soon as it started, so a start that fails still leaves the ones before it to be stopped.
 * Returns each seller's receipt directory.
 */
export async function startAppliances(sellers: Seller[], into: Supervised[], setting: ApplianceSetting): Promise<Map<string, string>> {
  const dirs = new Map<string, string>()
  for (const seller of sellers) {
    const out = join(setting.workDir, 'receipts', seller.id)
    mkdirSync(out, { recursive: true })
    dirs.set(seller.id, out)
    const appliance = new Supervised({
      name: `appliance-${seller.id.slice(0, 8)}`,
      args: ['--import', 'tsx', join(setting.root, 'cli', 'index.ts'), 'appliance', '--token', seller.applianceToken, '--out', out, '--url', setting.base],
      env: setting.env,
      logDir: setting.logDir
    })
    await appliance.start()
    into.push(appliance)
  }
  return dirs
}
