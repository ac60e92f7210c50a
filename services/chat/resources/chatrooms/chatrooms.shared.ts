import type { Chatroom, ChatroomData, ChatroomService } from './chatrooms.class.ts'

export type { Chatroom, ChatroomData }

/** `POST /chatrooms`, `GET /chatrooms/:id`: rooms and their members, for members. */
export const chatroomPath = 'chatrooms'

export const chatroomMethods = ['create', 'get'] as const satisfies ReadonlyArray<keyof ChatroomService>
