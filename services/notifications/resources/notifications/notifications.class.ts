import type { Params } from '@feathersjs/feathers'
import { KnexService, type KnexAdapterOptions } from '@feathersjs/knex'
import type { ServiceApp } from '../../../../shared/feathers/declarations.ts'
import type { Notification, NotificationQuery } from './notifications.schema.ts'

export type { Notification, NotificationQuery }

export type NotificationParams = Params<NotificationQuery>

/** Sent emails, written by the user-events consumer in the transaction of its inbox row. */
export class NotificationService extends KnexService<Notification, Notification, NotificationParams> {}

export const getOptions = (app: ServiceApp): KnexAdapterOptions => ({
  Model: app.get('db'),
  name: 'notifications',
  id: 'id',
  paginate: { default: 10, max: 50 }
})
