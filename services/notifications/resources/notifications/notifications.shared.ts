import type { Notification, NotificationQuery, NotificationService } from './notifications.class.ts'

export type { Notification, NotificationQuery }

/** `GET /notifications?userId=`: the emails sent to a user, newest first, paginated. */
export const notificationPath = 'notifications'

export const notificationMethods = ['find'] as const satisfies ReadonlyArray<keyof NotificationService>
