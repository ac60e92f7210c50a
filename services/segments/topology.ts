import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.segments.user-registrations`: every new account is assigned a segment. */
export const userRegistrations: ConsumerDeclaration = {
  service: 'segments',
  purpose: 'user-registrations',
  bindings: ['user.registered']
}

export const consumers: ConsumerDeclaration[] = [userRegistrations]
