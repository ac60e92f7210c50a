import { defineResource } from '../../../../shared/manifest/resource.ts'
import { segmentMethods, segmentPath } from './segments.shared.ts'

/** `/segments`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const segmentManifest = defineResource({
  path: segmentPath,
  methods: segmentMethods,
  access: {
    get: { who: 'the user, or admin' }
  },
  emits: {}
})
