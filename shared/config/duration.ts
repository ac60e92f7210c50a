/**
 * A duration from the environment, in milliseconds: a plain number is milliseconds, or a number
 * with a unit (`500ms`, `30s`, `15m`, `48h`, `30d`). Undefined stays undefined (the default applies);
 * anything else is returned as it is, for the configuration schema to refuse with its name.
 */
export function durationMs(value: string | undefined): number | string | undefined {
  if (value === undefined || value === '') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  if (!match) return value
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms']
  return Math.round(Number(match[1]) * factor)
}
