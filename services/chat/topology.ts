import type { ConsumerDeclaration } from '../../shared/bus/consumer.ts'

/** `<ns>.chat.user-updates`: only user.updated; chat keeps members' names from it and needs nothing else. */
export const userUpdates: ConsumerDeclaration = {
  service: 'chat',
  purpose: 'user-updates',
  bindings: ['user.updated']
}

export const consumers: ConsumerDeclaration[] = [userUpdates]
