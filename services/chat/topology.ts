import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.chat.user-updates`: user.updated, to keep members' names current. */
export const userUpdates: ConsumerDeclaration = {
  service: 'chat',
  purpose: 'user-updates',
  bindings: ['user.updated']
}

/**
 * `<ns>.chat.user-registrations`: user.registered, so chat knows which users
 * exist (a room's members must) and their first names. Its own queue: the
 * projection takes the newest name whichever queue brings it first.
 */
export const userRegistrations: ConsumerDeclaration = {
  service: 'chat',
  purpose: 'user-registrations',
  bindings: ['user.registered']
}

export const consumers: ConsumerDeclaration[] = [userUpdates, userRegistrations]
