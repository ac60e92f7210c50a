// The cluster chaos run's last line of cleanup, a process of its own: the run tells it, one JSON line
// on stdin each, which processes (RabbitMQ nodes, PostgreSQL servers) and directories it made. When
// stdin ends, because the run finished, failed, was interrupted or was SIGKILLed (no handler sees
// that), it kills those processes and removes those directories, so nothing outlives the run.
import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'

const processes = new Map()
const dirs = new Set()
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const order = JSON.parse(line)
  if (order.kill) processes.set(order.kill, order.signal ?? 'SIGKILL')
  if (order.forget) processes.delete(order.forget)
  if (order.remove) dirs.add(order.remove)
})
lines.on('close', () => {
  for (const [pid, signal] of processes) {
    try { process.kill(pid, signal) } catch {}
  }
  // killed processes may still be writing: give them a moment before their directories go
  setTimeout(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
  }, processes.size ? 1_000 : 0)
})
