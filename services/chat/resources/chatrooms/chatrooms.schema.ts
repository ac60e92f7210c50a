import { randomUUID } from 'node:crypto'
import { resolve, virtual } from '@feathersjs/schema'
import { Type, getValidator, type Static } from '@feathersjs/typebox'
import type { HookContext } from '../../../../shared/feathers/declarations.ts'
import { isoTimestamp, timestampField } from '../../../../shared/feathers/timestamps.ts'
import { dataValidator, queryValidator } from '../../../../shared/feathers/validation.ts'

/**
 * A member as the caller is shown them: the name is null until that member
 * has opened the room (its creator: on creating it), so creating a room never
 * reveals a stranger's name; the caller always sees their own. Once shown it
 * is kept current from user.updated.
 */
export const chatMemberSchema = Type.Object(
  {
    userId: Type.String(),
    name: Type.Union([Type.String(), Type.Null()])
  },
  { $id: 'ChatMember', additionalProperties: false }
)
export type ChatMember = Static<typeof chatMemberSchema>

export const chatroomSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    members: Type.Array(chatMemberSchema)
  },
  { $id: 'Chatroom', additionalProperties: false }
)
export type Chatroom = Static<typeof chatroomSchema>

/** Members with their current names (for those who opened the room, and the caller), the creator first. */
export const chatroomResolver = resolve<Chatroom, HookContext>({
  createdAt: timestampField,
  members: virtual(async (room, context) =>
    context.app
      .get('db')
      .select('m.userId')
      .select(context.app.get('db').raw('case when m."joinedAt" is not null or m."userId" = ? then n.name end as name', [context.params.caller?.id ?? null]))
      .from('chatroom_members as m')
      .leftJoin('user_names as n', 'n.userId', 'm.userId')
      .where('m.chatroomId', room.id)
      .orderBy('m.position')
  )
})

export const chatroomDataSchema = Type.Object(
  {
    title: chatroomSchema.properties.title,
    /** the other members, users chat knows (400 naming memberIds otherwise); the creator is always a member */
    memberIds: Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100 })
  },
  { $id: 'ChatroomData', additionalProperties: false }
)
export type ChatroomData = Static<typeof chatroomDataSchema>
export const chatroomDataValidator = getValidator(chatroomDataSchema, dataValidator)

/** The row of a new room: its id, creator and time are the server's. */
export const chatroomDataResolver = resolve<Omit<Chatroom, 'members'>, HookContext>({
  converter: async (data: Pick<ChatroomData, 'title'>, context: HookContext) => ({
    title: data.title,
    id: randomUUID(),
    createdBy: context.params.caller!.id,
    createdAt: isoTimestamp()
  }),
  properties: {}
})

/** A room is read by its id alone: no query parameters. */
export const chatroomQuerySchema = Type.Object({}, { $id: 'ChatroomQuery', additionalProperties: false })
export type ChatroomQuery = Static<typeof chatroomQuerySchema>
export const chatroomQueryValidator = getValidator(chatroomQuerySchema, queryValidator)
