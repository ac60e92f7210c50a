/** AMQP topic matching, as the broker does it: words split on `.`, `*` is one word, `#` zero or more. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.')
  const k = key.split('.')
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length
    if (p[i] === '#') return match(i + 1, j) || (j < k.length && match(i, j + 1))
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1)
  }
  return match(0, 0)
}
