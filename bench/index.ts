/**
 * `npm run bench -- <bus|sse|kv|storefront>`; without an argument, all of them, one after the other.
 * Each benchmark prints its table and writes bench/results/<name>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

type Benchmark = () => Promise<object>

const benchmarks: Record<string, () => Promise<Benchmark | undefined>> = {
  bus: async () => (await import('./bus.ts')).runBusBenchmark,
  // Written separately (issue 4); until it lands, say so rather than crash on the import.
  sse: () => optional('sse.ts', 'runSseBenchmark'),
  kv: async () => (await import('./kv.ts')).runKvBenchmark,
  // The storefront read model's figure (issue 13's other half) lands as bench/storefront.ts; until then, say so.
  storefront: () => optional('storefront.ts', 'runStorefrontBenchmark')
}

/** A benchmark written separately: undefined while its file is not there. */
async function optional(file: string, exported: string): Promise<Benchmark | undefined> {
  if (!existsSync(fileURLToPath(new URL(`./${file}`, import.meta.url)))) return undefined
  const module = (await import(`./${file}`)) as Record<string, unknown>
  if (typeof module[exported] !== 'function') throw new Error(`bench/${file} does not export ${exported}()`)
  return module[exported] as Benchmark
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
  const chosen = args.length ? args : ['sse', 'kv', 'storefront', 'bus']
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
