import { Type } from '@feathersjs/typebox'
import type { ConsumerDeclaration } from '../bus/consumer.ts'

/**
 * A consuming service's configuration may set its retry delays (tests shorten
 * them; an operator may lengthen them). Spread into its config schema.
 */
export const retryConfigProperties = {
  retryDelaysMs: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 20 }))
}

/** The consumer declaration with the retry delays of the service's configuration, if it sets any. */
export function withConfiguredRetry<D extends ConsumerDeclaration>(declaration: D, config: Record<string, unknown>): D {
  const delaysMs = config.retryDelaysMs as number[] | undefined
  return delaysMs ? { ...declaration, retry: { kind: 'delayed', delaysMs } } : declaration
}
