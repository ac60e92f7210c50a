import { BadRequest, Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { publicQuery } from '../../../../shared/feathers/query.ts'
import { transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { serviceOptions } from '../../../../shared/manifest/resource.ts'
import { knownUsers, learnNameFromToken } from '../../user-names.ts'
import { ChatroomService, getOptions, type Chatroom, type ChatroomData, type ChatroomParams } from './chatrooms.class.ts'
import { chatroomDataResolver, chatroomDataValidator, chatroomQueryValidator, chatroomResolver, chatroomSchema } from './chatrooms.schema.ts'
import { isoTimestamp } from '../../../../shared/feathers/timestamps.ts'
import { chatroomPath } from './chatrooms.shared.ts'
import { chatroomManifest } from './chatrooms.manifest.ts'

export * from './chatrooms.class.ts'
export * from './chatrooms.schema.ts'
export * from './chatrooms.shared.ts'

const dbOf = (context: HookContext) => context.params.transaction?.trx ?? context.app.get('db')

/** The caller's token carries their name: chat learns it if it has not heard it from users yet. */
const learnCallerName = async (context: HookContext) => {
  const caller = context.params.caller
  if (caller?.name) await learnNameFromToken(dbOf(context), context.app.get('schema'), caller.id, caller.name)
}

/**
 * Any user may open a room with any users chat knows exist (from
 * user.registered, user.updated or their own token): an id of no user is a
 * 400 naming `memberIds`, with the index of each. Adding someone reveals
 * nothing about them (see the names rule on `chatroomResolver`).
 */
const knownMembers = async (context: HookContext) => {
  const { memberIds } = context.data as ChatroomData
  const caller = context.params.caller!.id
  const known = await knownUsers(dbOf(context), context.app.get('schema'), [...new Set(memberIds)].filter((id) => id !== caller))
  const unknown = memberIds.flatMap((userId, index) => (userId === caller || known.has(userId) ? [] : [{ index, userId, message: 'no such user' }]))
  if (unknown.length) throw new BadRequest(`Unknown members: ${unknown.map((u) => u.userId).join(', ')}`, { memberIds: unknown })
}

/** The member ids leave the room's row for the members table: the creator first, each once. */
const takeMembers = async (context: HookContext) => {
  const { memberIds, ...room } = context.data as ChatroomData
  ;(context.params as ChatroomParams).memberIds = [...new Set([context.params.caller!.id, ...memberIds])]
  context.data = room
}

const addMembers = async (context: HookContext) => {
  const room = context.result as Chatroom
  const memberIds = (context.params as ChatroomParams).memberIds ?? []
  await dbOf(context)
    .withSchema(context.app.get('schema'))
    .table('chatroom_members')
    // the creator has joined by creating it; the others join when they first open it
    .insert(memberIds.map((userId, position) => ({ chatroomId: room.id, userId, position, joinedAt: position === 0 ? room.createdAt : null })))
}

/** Only a room's members may read it; a member opening it has joined, and from then on shows their name to the others. */
const membersOnly = async (context: HookContext) => {
  const caller = context.params.caller
  if (!context.params.provider || !caller) return
  const members = () => dbOf(context).withSchema(context.app.get('schema')).table('chatroom_members')
  const where = { chatroomId: (context.result as Chatroom).id, userId: caller.id }
  const membership = await members().where(where).first('joinedAt')
  if (!membership) throw new Forbidden('Only members may read this chatroom')
  if (!membership.joinedAt) await members().where(where).whereNull('joinedAt').update({ joinedAt: isoTimestamp() })
}

/**
 * `POST /chatrooms`, `GET /chatrooms/:id`: rooms for their members.
 *
 * Who may add whom: any signed-in user may open a room with any users that
 * exist (unknown ids: 400 naming `memberIds`).
 * Names: `members: [{ userId, name }]` shows a member's name only once that
 * member has opened the room (GET /chatrooms/:id; the creator by creating
 * it), and always the caller's own; until then `name` is null. So a room never
 * tells anyone a name that GET /users/:id would not, and in a room whose
 * members all take part every name shows, kept current from user.updated.
 */

export const chatrooms = (app: ServiceApp) => {
  app.use(chatroomPath, new ChatroomService(getOptions(app)), { ...serviceOptions(chatroomManifest), events: [] })
  app.service(chatroomPath).hooks({
    around: {
      all: [authenticateUser(), publicQuery(chatroomSchema), schemaHooks.resolveResult(chatroomResolver)],
      create: [transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(chatroomQueryValidator)],
      get: [uuidId(), learnCallerName],
      create: [schemaHooks.validateData(chatroomDataValidator), knownMembers, takeMembers, schemaHooks.resolveData(chatroomDataResolver), learnCallerName]
    },
    after: {
      get: [membersOnly],
      create: [addMembers]
    }
  })
}
