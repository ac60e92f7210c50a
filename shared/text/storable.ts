/**
 * Text PostgreSQL (UTF-8 `text`) cannot store, found anywhere in a value: used by the REST hook
 * (shared/feathers/storable-text.ts) and by the bus's contract check (shared/contracts/validate.ts), so a
 * NUL is a 400 over HTTP and a dead letter with its reason over AMQP, never a failing insert.
 */
export type TextPlace = 'data' | 'query' | 'id' | 'payload'

export interface TextProblem {
  /** JSON pointer to the string (or the key) within the body or the query, as schema errors name fields */
  instancePath: string
  keyword: 'storableText'
  message: string
  params: { in: TextPlace }
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (code units: no `u` flag). */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Why PostgreSQL (UTF-8 `text`) cannot hold this string faithfully, or
 * undefined when it can: it refuses U+0000 outright (a 500 deep in a query),
 * and a lone surrogate (JSON `"\ud800"`) has no UTF-8 form at all, so the
 * driver would silently store U+FFFD instead of what was sent.
 */
export function unstorable(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain a NUL character (U+0000)'
  if (loneSurrogate.test(text)) return 'must be well-formed Unicode (it has a lone surrogate)'
  return undefined
}

/**
 * False when no string or key of the value this JSON text encodes can hold what `unstorable` refuses, told
 * from the text alone: JSON can carry a NUL or a lone surrogate only as a `\u` escape (a raw control
 * character is not JSON; UTF-8 decoded by Buffer, and JSON.stringify's output, hold no lone surrogate:
 * the one turns bad bytes into U+FFFD, the other escapes lone surrogates). True means "look closer"
 * (findUnstorableText): a `\u` may also be any other escape, or a backslash followed by a `u`.
 */
export function jsonMayHoldUnstorableText(json: string): boolean {
  return json.includes('\\u')
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * Every string (and object key) in a body or query that cannot be stored.
 * Iterative rather than recursive: a deeply nested body must be a 400, not a
 * stack overflow.
 */
export function findUnstorableText(value: unknown, where: TextPlace): TextProblem[] {
  const problems: TextProblem[] = []
  const pending: Array<[unknown, string]> = [[value, '']]
  const seen = new Set<object>()
  while (pending.length) {
    const [current, path] = pending.pop()!
    if (typeof current === 'string') {
      const message = unstorable(current)
      if (message) problems.push({ instancePath: path, keyword: 'storableText', message, params: { in: where } })
    } else if (current !== null && typeof current === 'object' && !seen.has(current)) {
      seen.add(current)
      for (const [key, item] of Object.entries(current)) {
        const keyMessage = unstorable(key)
        if (keyMessage) problems.push({ instancePath: `${path}/${escape(key)}`, keyword: 'storableText', message: `key ${keyMessage}`, params: { in: where } })
        pending.push([item, `${path}/${escape(key)}`])
      }
    }
  }
  return problems.sort((a, b) => a.instancePath.localeCompare(b.instancePath))
}

