import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Chatroom, ChatroomData, ChatroomQuery } from './chatrooms.schema.ts'

export type { Chatroom, ChatroomData, ChatroomQuery }

export interface ChatroomParams extends Params<ChatroomQuery> {
  /** the members of a room being created, the creator first: written beside the room row */
  memberIds?: string[]
}

/** Rooms in `chatrooms`; their members in `chatroom_members`, written by the resource's hooks. */
export class ChatroomService extends KnexService<Chatroom, ChatroomData, ChatroomParams> {}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'chatrooms',
  id: 'id'
})
