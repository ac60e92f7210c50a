import { defineResource } from '../../../../shared/manifest/resource.ts'
import { chatroomMethods, chatroomPath } from './chatrooms.shared.ts'

/** `/chatrooms`: who may call each method and what each emits (the hooks and emit() read it; so does scripts/docs). */
export const chatroomManifest = defineResource({
  path: chatroomPath,
  methods: chatroomMethods,
  access: {
    create: { who: 'any signed-in user (who becomes a member)' },
    get: { who: "the room's members" }
  },
  emits: {}
})
