import type { Principal } from '../history/audiences.ts'

/** One key per principal: a user, or an appliance (each appliance of a seller has its own allowance). */
export const principalKey = (principal: Principal) =>
  principal.kind === 'user' ? `user:${principal.userId}` : `appliance:${principal.applianceId}`

/**
 * How many streams each principal has open on this instance, and a cap on
 * it. A slot is taken as soon as the credentials are known, before any await,
 * so concurrent connects cannot all slip past the cap; it is given back once
 * (however many times release is called) when the stream ends or fails to open.
 */
export class StreamQuota {
  private readonly open = new Map<string, number>()

  constructor(private readonly max: number) {}

  /** A release function, or undefined when the principal already has `max` streams here. */
  acquire(principal: Principal): (() => void) | undefined {
    const key = principalKey(principal)
    const count = this.open.get(key) ?? 0
    if (count >= this.max) return undefined
    this.open.set(key, count + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.open.get(key) ?? 1) - 1
      if (left > 0) this.open.set(key, left)
      else this.open.delete(key)
    }
  }
}
