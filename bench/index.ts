/**
 * `npm run bench -- <bus|sse|jobs|kv|storefront|import|checkout>`; without an argument, all of them, one after the other.
 * Each benchmark prints its table and writes bench/results/<name>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

type Benchmark = () => Promise<object>

const benchmarks: Record<string, () => Promise<Benchmark | undefined>> = {
  bus: async () => (await import('./bus.ts')).runBusBenchmark,
  jobs: async () => (await import('./jobs.ts')).runJobsBenchmark,
  sse: async () => {
    // Written separately (issue 4); until it lands, say so rather than crash on the import.
    if (!existsSync(fileURLToPath(new URL('./sse.ts', import.meta.url)))) return undefined
    const module = (await import('./sse.ts' as string)) as { runSseBenchmark?: Benchmark }
    if (typeof module.runSseBenchmark !== 'function') throw new Error('bench/sse.ts does not export runSseBenchmark()')
    return module.runSseBenchmark
  },
  kv: async () => (await import('./kv.ts')).runKvBenchmark,
  storefront: async () => (await import('./storefront.ts')).runStorefrontBenchmark,
  import: async () => (await import('./import.ts')).runImportBenchmark,
  checkout: async () => (await import('./checkout.ts')).runCheckoutBenchmark
}

const usage = `usage: npm run bench [-- ${Object.keys(benchmarks).join('|')}]   (no argument: all of them)`

async function main(args: string[]): Promise<number> {
  if (args.some((a) => a === '-h' || a === '--help')) {
    console.log(usage)
    return 0
  }
  const unknown = args.filter((a) => !(a in benchmarks))
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')}\n${usage}`)
    return 2
  }
  // All of them: the SSE benchmark first. It measures latency, and the bus benchmark's 150,000 quorum-queue
  // messages leave RabbitMQ 3.10 holding hundreds of MB for a while, which doubles the SSE latencies after it.
  // The jobs, kv and storefront benchmarks leave little behind in RabbitMQ: before the bus's, whose quorum messages linger.
  const chosen = args.length ? args : ['sse', 'jobs', 'kv', 'storefront', 'import', 'checkout', 'bus']
  let missing = 0
  for (const name of chosen) {
    const run = await benchmarks[name]!()
    if (!run) {
      console.error(`benchmark "${name}" is not there yet: bench/${name}.ts does not exist`)
      missing++
      continue
    }
    console.log(`\n=== ${name} benchmark`)
    const result = await run()
    // bench/bus.ts writes its own, richer file; the others' results are written here.
    if (name !== 'bus') {
      const dir = fileURLToPath(new URL('./results/', import.meta.url))
      mkdirSync(dir, { recursive: true })
      const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }
      writeFileSync(`${dir}${name}.json`, JSON.stringify({ date: new Date().toISOString(), machine, ...result }, null, 2) + '\n')
      console.log(`written to bench/results/${name}.json`)
    }
  }
  // Asked for by name and absent: a failure. Absent while running "all": said above, not fatal.
  return missing && args.length ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  }
)
