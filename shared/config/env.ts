import { durationMs } from './duration.ts'

/**
 * The process environment of contract.md, read in one place with its defaults,
 * so every service, the CLI and the tests agree on what a variable means.
 */
export interface BazaarEnv {
  /** the first broker of AMQP_URL: what tools that talk to one node (management, demo, benches) use */
  amqpUrl: string
  /**
   * every broker of AMQP_URL, which may list a cluster's nodes comma-separated
   * (`amqp://u:p@rabbit-1:5672,amqp://u:p@rabbit-2:5672`): the bus connects to the first that answers
   * and moves on to the next when one is unreachable or its connection drops (shared/bus/hosts.ts)
   */
  amqpUrls: string[]
  databaseUrl: string
  smtpUrl: string
  namespace: string
  port: number
  jwtSecret: string
  jwtSecretIsDefault: boolean
  adminEmail?: string
  adminPassword?: string
  /**
   * retention of the streams that carry in-memory KV stores (shared/kv): KV_STREAM_MAX_AGE
   * (duration, default 7d) and KV_STREAM_MAX_BYTES (default 1 GB). Every service declares those
   * streams with the same arguments, so every service reads them here.
   */
  kvStream: { maxAgeMs: number; maxLengthBytes: number }
  /** how long finished jobs (done, failed, cancelled) are kept before the runner sweeps them: JOBS_RETENTION (duration, default 7d) */
  jobsRetentionMs: number
}

export const DEFAULT_JWT_SECRET = 'bazaar-development-secret-change-me'

export function readEnv(env: NodeJS.ProcessEnv = process.env): BazaarEnv {
  const namespace = env.BAZAAR_NAMESPACE || 'bazaar'
  if (!/^[a-z][a-z0-9_-]{0,40}$/.test(namespace)) {
    throw new Error(
      `BAZAAR_NAMESPACE must be lowercase letters, digits, '-' or '_' (got ${JSON.stringify(namespace)})`
    )
  }
  const amqpUrls = amqpUrlList(env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672')
  return {
    amqpUrl: amqpUrls[0]!,
    amqpUrls,
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/bazaar',
    smtpUrl: env.SMTP_URL || 'smtp://127.0.0.1:1025',
    namespace,
    port: Number(env.PORT || 3030),
    jwtSecret: env.JWT_SECRET || DEFAULT_JWT_SECRET,
    jwtSecretIsDefault: !env.JWT_SECRET,
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    kvStream: {
      maxAgeMs: positiveSetting('KV_STREAM_MAX_AGE', durationMs(env.KV_STREAM_MAX_AGE), 7 * 86_400_000),
      maxLengthBytes: positiveSetting('KV_STREAM_MAX_BYTES', env.KV_STREAM_MAX_BYTES || undefined, 1_000_000_000)
    },
    jobsRetentionMs: positiveSetting('JOBS_RETENTION', durationMs(env.JOBS_RETENTION), 7 * 86_400_000)
  }
}

/** AMQP_URL's brokers, in order: one URL, or several separated by commas (blanks around them ignored). */
export function amqpUrlList(value: string): string[] {
  const urls = value.split(',').map((url) => url.trim()).filter((url) => url !== '')
  for (const url of urls) {
    if (!/^amqps?:\/\//.test(url)) throw new Error(`AMQP_URL must list amqp:// or amqps:// URLs separated by commas (got ${JSON.stringify(redactUrl(url))})`)
  }
  if (urls.length === 0) throw new Error('AMQP_URL is empty')
  return urls
}

/** A positive whole number from the environment, or its default; anything else is one clear line. */
function positiveSetting(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number <= 0) throw new Error(`${name} must be a positive whole number${/AGE$|RETENTION$/.test(name) ? ' or a duration such as 7d' : ''} (got ${JSON.stringify(value)})`)
  return number
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
