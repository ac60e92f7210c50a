/**
 * The process environment of contract.md, read in one place with its defaults,
 * so every service, the CLI and the tests agree on what a variable means.
 */
export interface BazaarEnv {
  amqpUrl: string
  databaseUrl: string
  smtpUrl: string
  namespace: string
  port: number
  jwtSecret: string
  jwtSecretIsDefault: boolean
  adminEmail?: string
  adminPassword?: string
}

export const DEFAULT_JWT_SECRET = 'bazaar-development-secret-change-me'

export function readEnv(env: NodeJS.ProcessEnv = process.env): BazaarEnv {
  const namespace = env.BAZAAR_NAMESPACE || 'bazaar'
  if (!/^[a-z][a-z0-9_-]{0,40}$/.test(namespace)) {
    throw new Error(
      `BAZAAR_NAMESPACE must be lowercase letters, digits, '-' or '_' (got ${JSON.stringify(namespace)})`
    )
  }
  return {
    amqpUrl: env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/bazaar',
    smtpUrl: env.SMTP_URL || 'smtp://127.0.0.1:1025',
    namespace,
    port: Number(env.PORT || 3030),
    jwtSecret: env.JWT_SECRET || DEFAULT_JWT_SECRET,
    jwtSecretIsDefault: !env.JWT_SECRET,
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined
  }
}

/** Strips credentials from a URL so it can be printed in an error line. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}
