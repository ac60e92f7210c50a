/**
 * The microservices of Bazaar, their default internal ports and the public
 * REST paths each one owns. The gateway routes by this table, `npm start`
 * starts by it; services themselves never import each other.
 */
export interface ServiceEntry {
  name: string
  port: number
  /** first path segments it serves on the public origin */
  paths: string[]
}

export const serviceTable: ServiceEntry[] = [
  { name: 'users', port: 3031, paths: ['users', 'authentication'] },
  { name: 'notifications', port: 3032, paths: ['notifications'] },
  { name: 'benefits', port: 3033, paths: ['balances'] },
  { name: 'segments', port: 3034, paths: ['segments'] },
  { name: 'chat', port: 3035, paths: ['chatrooms'] },
  { name: 'catalog', port: 3036, paths: ['products', 'imports'] },
  { name: 'orders', port: 3037, paths: ['orders', 'claims'] },
  { name: 'reference', port: 3038, paths: ['countries', 'currencies', 'flags'] },
  { name: 'storefronts', port: 3039, paths: ['storefronts'] },
  { name: 'payments', port: 3040, paths: ['payments'] },
  { name: 'fulfilment', port: 3041, paths: ['deliveries', 'invoices'] },
  { name: 'subscriptions', port: 3042, paths: ['subscriptions'] },
  { name: 'gateway', port: 3030, paths: ['events', 'appliances', 'maintenance-notices', 'receipts', 'health', 'warehouse'] }
]

/**
 * Stand-ins for the third parties Bazaar talks to over HTTP, each its own process that `npm start`, the tests
 * and the chaos run start beside the services: `<NAME>_URL` tells the services where it is.
 */
export interface ThirdPartyEntry {
  name: string
  port: number
  entry: string
  urlVariable: string
  portVariable: string
}

export const thirdParties: ThirdPartyEntry[] = [
  { name: 'card-provider', port: 3049, entry: 'services/card-provider/index.ts', urlVariable: 'CARD_PROVIDER_URL', portVariable: 'CARD_PROVIDER_PORT' }
]

/** Where a service listens: `<NAME>_URL` if set, else localhost on its default port. */
export function serviceUrl(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const entry = serviceTable.find((s) => s.name === name)
  if (!entry) throw new Error(`unknown service ${name}`)
  return env[`${name.toUpperCase()}_URL`] || `http://127.0.0.1:${entry.port}`
}

/** The port a service process listens on: `PORT` for the gateway (the public origin), `<NAME>_PORT` for the others. */
export function servicePort(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const entry = serviceTable.find((s) => s.name === name)
  if (!entry) throw new Error(`unknown service ${name}`)
  const value = name === 'gateway' ? env.PORT : env[`${name.toUpperCase()}_PORT`]
  return Number(value || entry.port)
}
