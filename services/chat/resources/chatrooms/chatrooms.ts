import { Forbidden } from '@feathersjs/errors'
import { hooks as schemaHooks } from '@feathersjs/schema'
import { authenticateUser } from '../../../../shared/feathers/auth.ts'
import type { HookContext, ServiceApp } from '../../../../shared/feathers/declarations.ts'
import { transactional } from '../../../../shared/feathers/transaction.ts'
import { uuidId } from '../../../../shared/feathers/validation.ts'
import { learnNameFromToken } from '../../user-names.ts'
import { ChatroomService, getOptions, type Chatroom, type ChatroomData, type ChatroomParams } from './chatrooms.class.ts'
import { chatroomDataResolver, chatroomDataValidator, chatroomQueryValidator, chatroomResolver } from './chatrooms.schema.ts'
import { chatroomMethods, chatroomPath } from './chatrooms.shared.ts'

export * from './chatrooms.class.ts'
export * from './chatrooms.schema.ts'
export * from './chatrooms.shared.ts'

const dbOf = (context: HookContext) => context.params.transaction?.trx ?? context.app.get('db')

/** The caller's token carries their name: chat learns it if it has not heard it from users yet. */
const learnCallerName = async (context: HookContext) => {
  const caller = context.params.caller
  if (caller?.name) await learnNameFromToken(dbOf(context), context.app.get('schema'), caller.id, caller.name)
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
    .insert(memberIds.map((userId, position) => ({ chatroomId: room.id, userId, position })))
}

/** Only a room's members may read it. */
const membersOnly = async (context: HookContext) => {
  const caller = context.params.caller
  if (!context.params.provider || !caller) return
  const membership = await dbOf(context)
    .withSchema(context.app.get('schema'))
    .table('chatroom_members')
    .where({ chatroomId: (context.result as Chatroom).id, userId: caller.id })
    .first()
  if (!membership) throw new Forbidden('Only members may read this chatroom')
}

export const chatrooms = (app: ServiceApp) => {
  app.use(chatroomPath, new ChatroomService(getOptions(app)), { methods: chatroomMethods, events: [] })
  app.service(chatroomPath).hooks({
    around: {
      all: [authenticateUser(), schemaHooks.resolveResult(chatroomResolver)],
      create: [transactional()]
    },
    before: {
      all: [schemaHooks.validateQuery(chatroomQueryValidator)],
      get: [uuidId(), learnCallerName],
      create: [schemaHooks.validateData(chatroomDataValidator), takeMembers, schemaHooks.resolveData(chatroomDataResolver), learnCallerName]
    },
    after: {
      get: [membersOnly],
      create: [addMembers]
    }
  })
}
