import { readEnv } from '../../shared/config/env.ts'
import { durationMs } from '../../shared/config/duration.ts'
import { startCardProvider } from './app.ts'

/** The card provider as its own process: `CARD_PROVIDER_PORT` (default 3049), `CARD_PROVIDER_SLOW` (default 5s). */
const env = readEnv()
const port = Number(process.env.CARD_PROVIDER_PORT || 3049)
const slowMs = durationMs(process.env.CARD_PROVIDER_SLOW) ?? 5_000
if (typeof slowMs !== 'number') {
  process.stderr.write(`card-provider: CARD_PROVIDER_SLOW must be a duration such as 5s (got ${JSON.stringify(slowMs)})\n`)
  process.exit(1)
}
try {
  const provider = await startCardProvider(
    { databaseUrl: env.databaseUrl, namespace: env.namespace, failures: { slowMs } },
    port,
    '0.0.0.0'
  )
  process.stdout.write(`${JSON.stringify({ level: 30, service: 'card-provider', msg: `card provider listening on ${provider.url}` })}\n`)
  const stop = () => void provider.stop().then(() => process.exit(0), () => process.exit(1))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} catch (err) {
  process.stderr.write(`card-provider: ${(err as Error).message}\n`)
  process.exit(1)
}
