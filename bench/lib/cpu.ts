import { readFileSync, readdirSync } from 'node:fs'

/**
 * Where the CPU went during a measurement, on a 2-core machine where the
 * broker, the database and this process compete for it: this process's CPU,
 * the local RabbitMQ's (beam.smp, when /proc shows it), and how idle the
 * machine was.
 */
export interface CpuSample {
  process: NodeJS.CpuUsage
  /** user + system clock ticks of RabbitMQ's and PostgreSQL's processes */
  broker: Map<number, number>
  database: Map<number, number>
  /** idle and total jiffies of all CPUs */
  idle: number
  total: number
  at: number
}

export interface CpuUse {
  /** CPU ms this process spent per 1,000 messages */
  benchProcessMsPerK: number
  /** CPU ms RabbitMQ spent per 1,000 messages (local broker only) */
  brokerMsPerK?: number
  /** CPU ms PostgreSQL's processes spent per 1,000 messages (local database only) */
  databaseMsPerK?: number
  /** share of the machine's CPU time that was idle, in % */
  machineIdlePct?: number
}

export const TICK_MS = 10 // USER_HZ is 100 on Linux

/** Process ids by command name (`beam.smp`, `postgres`), read from /proc; empty where there is none. */
function pidsOf(command: string): number[] {
  const pids: number[] = []
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) pids.push(Number(entry))
      } catch {
        // gone, or not ours to read
      }
    }
  } catch {
    // no /proc: not Linux
  }
  return pids
}

/** CPU ticks of every process of a command; a process that starts or ends in between counts from or until then. */
export function ticksByPid(command: string): Map<number, number> {
  const ticks = new Map<number, number>()
  for (const pid of pidsOf(command)) {
    const t = ticksOf(pid)
    if (t !== undefined) ticks.set(pid, t)
  }
  return ticks
}

export function ticksSince(start: Map<number, number>, end: Map<number, number>): number | undefined {
  if (end.size === 0) return undefined
  let sum = 0
  for (const [pid, t] of end) sum += t - (start.get(pid) ?? 0)
  return sum
}

export function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12]) // utime, stime
  } catch {
    return undefined
  }
}

function machineJiffies(): { idle: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const values = line.trim().split(/\s+/).slice(1).map(Number)
    return { idle: (values[3] ?? 0) + (values[4] ?? 0), total: values.reduce((a, b) => a + b, 0) }
  } catch {
    return { idle: NaN, total: NaN }
  }
}

export function cpuSample(): CpuSample {
  return { process: process.cpuUsage(), broker: ticksByPid('beam.smp'), database: ticksByPid('postgres'), ...machineJiffies(), at: Date.now() }
}

export function cpuSince(start: CpuSample, messages: number): CpuUse {
  const end = cpuSample()
  const used = process.cpuUsage(start.process)
  const perK = (ms: number) => Math.round((ms / messages) * 1000 * 10) / 10
  const ticks = (t: number | undefined) => (t === undefined ? undefined : perK(t * TICK_MS))
  const total = end.total - start.total
  return {
    benchProcessMsPerK: perK((used.user + used.system) / 1000),
    brokerMsPerK: ticks(ticksSince(start.broker, end.broker)),
    databaseMsPerK: ticks(ticksSince(start.database, end.database)),
    machineIdlePct: total > 0 ? Math.round(((end.idle - start.idle) / total) * 1000) / 10 : undefined
  }
}
