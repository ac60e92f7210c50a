import { defineResource } from '../../../../shared/manifest/resource.ts'
import { notificationMethods, notificationPath } from './notifications.shared.ts'

/** `/notifications`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const notificationManifest = defineResource({
  path: notificationPath,
  methods: notificationMethods,
  access: {
    find: { who: 'the user (their own; `userId` defaults to the caller), or admin' }
  },
  emits: {}
})
