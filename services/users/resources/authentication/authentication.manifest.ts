import { USER_SESSIONS_REVOKED } from '../../../../shared/contracts/index.ts'
import { defineResource } from '../../../../shared/manifest/resource.ts'
import { authenticationMethods, authenticationPath } from './authentication.shared.ts'

/** `/authentication`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const authenticationManifest = defineResource({
  path: authenticationPath,
  methods: authenticationMethods,
  access: {
    create: { who: 'anyone', open: true },
    remove: { who: 'the user (with the token, as `Authorization: Bearer`)' }
  },
  emits: { remove: [USER_SESSIONS_REVOKED] }
})
