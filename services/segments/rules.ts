import type { UserRegistered } from '../../shared/contracts/user.ts'
import type { SegmentRule } from './config.ts'

/** The segment of a new user: the first rule they meet, else the default. */
export function segmentFor(user: Pick<UserRegistered, 'role' | 'email'>, rules: SegmentRule[], defaultSegment: string): string {
  const domain = user.email.slice(user.email.lastIndexOf('@') + 1).toLowerCase()
  const matches = (rule: SegmentRule) =>
    (rule.role === undefined || rule.role === user.role) &&
    (rule.emailDomains === undefined ||
      rule.emailDomains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`)))
  return rules.find(matches)?.segment ?? defaultSegment
}
