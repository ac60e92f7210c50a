import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** The catalog consumes nothing: it is the source of product.* events, published through its outbox. */
export const consumers: ConsumerDeclaration[] = []
