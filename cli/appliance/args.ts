import { parseArgs } from 'node:util'
import type { ApplianceOptions } from './appliance.ts'

export const applianceUsage = `Usage: bazaar appliance --token <token> [--out <dir>] [--url <origin>]

A reference warehouse receipt appliance: connects to the gateway's event
stream with an appliance token, prints every new order of its seller as a
plain-text receipt (to stdout, or one file per order in --out), acknowledges
each one, and reconnects with Last-Event-ID after a drop. Each order is
printed once. Stops on Ctrl-C; exits non-zero if the token is refused.

Options:
  --token <token>   appliance token from POST /appliances (or BAZAAR_APPLIANCE_TOKEN)
  --out <dir>       write <orderId>.txt files here instead of printing to stdout
  --url <origin>    the gateway (default http://127.0.0.1:$PORT, PORT defaults to 3030)
  -h, --help        this help`

export type ParsedApplianceArgs = { help: true } | { help: false; options: ApplianceOptions }

/** Reads the appliance's command line; throws an Error naming what is wrong. */
export function parseApplianceArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedApplianceArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      token: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true,
    allowPositionals: false
  })
  if (values.help) return { help: true }
  const token = values.token ?? env.BAZAAR_APPLIANCE_TOKEN
  if (!token) throw new Error('--token is required (the appliance token from POST /appliances)')
  const url = values.url ?? `http://127.0.0.1:${env.PORT || 3030}`
  try {
    new URL(url)
  } catch {
    throw new Error(`--url is not a URL: ${url}`)
  }
  return { help: false, options: { url, token, out: values.out } }
}
