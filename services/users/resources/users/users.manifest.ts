import { USER_REGISTERED, USER_SESSIONS_REVOKED, USER_UPDATED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { userMethods, userPath } from './users.shared.ts'

/** `/users`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const userManifest = defineResource({
  path: userPath,
  methods: userMethods,
  access: {
    create: { who: 'anyone', open: true },
    get: { who: 'the user, or admin' },
    patch: { who: 'the user, or admin' }
  },
  emits: { create: [USER_REGISTERED], patch: [USER_UPDATED, USER_SESSIONS_REVOKED] }
})
