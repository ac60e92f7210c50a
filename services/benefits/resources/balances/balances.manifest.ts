import { defineResource } from '../../../../shared/manifest/resource.ts'
import { balanceMethods, balancePath } from './balances.shared.ts'

/** `/balances`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const balanceManifest = defineResource({
  path: balancePath,
  methods: balanceMethods,
  access: {
    get: { who: 'the user, or admin' }
  },
  emits: {}
})
