import type { Migration } from '../../../shared/db/migrations.ts'

export const migrations: Migration[] = [
  {
    name: '001_chatrooms',
    async up(db) {
      await db.schema.createTable('chatrooms', (t) => {
        t.uuid('id').primary()
        t.string('title', 200).notNullable()
        t.string('createdBy', 64).notNullable()
        t.timestamp('createdAt', { useTz: true }).notNullable()
      })
      await db.schema.createTable('chatroom_members', (t) => {
        t.uuid('chatroomId').notNullable().references('id').inTable('chatrooms').onDelete('CASCADE')
        t.string('userId', 64).notNullable()
        /** the order members were given in, the creator first */
        t.integer('position').notNullable()
        t.primary(['chatroomId', 'userId'])
        t.index(['userId'])
      })
      // chat's own projection of users' names: from user.updated events and from callers' tokens
      await db.schema.createTable('user_names', (t) => {
        t.string('userId', 64).primary()
        t.string('name', 100).nullable()
        /** when users last changed the user; null while the name is only known from a token */
        t.timestamp('updatedAt', { useTz: true }).nullable()
      })
    }
  },
  {
    name: '002_member_joined',
    async up(db) {
      // When a member first opened the room (its creator: on creating it). Other members see a name only from then.
      await db.raw('alter table chatroom_members add column "joinedAt" timestamptz null')
      await db.raw('update chatroom_members m set "joinedAt" = r."createdAt" from chatrooms r where r.id = m."chatroomId" and r."createdBy" = m."userId"')
    }
  }
]
