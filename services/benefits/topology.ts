import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.benefits.user-registrations`: every new account gets a balance. */
export const userRegistrations: ConsumerDeclaration = {
  service: 'benefits',
  purpose: 'user-registrations',
  bindings: ['user.registered']
}

export const consumers: ConsumerDeclaration[] = [userRegistrations]
