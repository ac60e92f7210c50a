/**
 * What a resource's schemas and manifest do not say, kept as small explicit
 * tables: ids named otherwise, prose notes, and paths that are not resources.
 */

/** What a resource's schemas do not say. */
// withoutId: methods called on the collection path although Feathers names them by id (logout is `DELETE /authentication`)
// createStatus: what create answers when it is not 201 (202: accepted, the work follows)
export const restNotes: Record<string, { idName?: string; withoutId?: string[]; notes?: string[]; resultExtra?: string; createResultExtra?: string; createStatus?: number }> = {
  users: {
    notes: [
      'Registering emits `user.registered`; a patch that changes a profile field emits `user.updated`.',
      '`POST /users` answers 409 if the email exists.',
      'A new `password` needs `currentPassword` when users change their own (400 naming it if missing or wrong; wrong ones count as failed logins); an admin may set another user\'s without. It ends every session of the account, the caller\'s included (log in again), and emits `user.sessions_revoked`.'
    ]
  },
  authentication: {
    withoutId: ['remove'],
    notes: [
      'Result: `{ accessToken, authentication: { strategy, ... }, user }`, where `user` is shown as `GET /users/:id` shows it.',
      'Each login with `strategy: "local"` sets the user\'s `lastLoginAt`.',
      'Failed logins are limited per client address and per account (`LOGIN_RATE_ADDRESS_POINTS`, `LOGIN_RATE_ACCOUNT_POINTS` per `LOGIN_RATE_WINDOW`): past either, 429 `TooManyRequests` with `Retry-After` (seconds, also `data.retryAfter`), even for the right password. A successful login resets its account\'s count.',
      '`DELETE /authentication` logs out: it ends every session of the token\'s user (every token issued so far is refused, on every instance, within about a second; open SSE streams end) and emits `user.sessions_revoked`.',
      'Send the token as `Authorization: Bearer <accessToken>` to every other resource.'
    ]
  },
  balances: { idName: 'userId', notes: ['A new user gets welcome points (from `user.registered`).'] },
  segments: { idName: 'userId', notes: ['Assigned on registration (from `user.registered`).'] },
  chatrooms: { notes: ['The creator is always a member; member names are kept current from `user.updated`.'] },
  products: { notes: ['Each create emits `product.created`, each patch `product.updated`; patching a parent\'s shared fields (title, description, price, currency) patches its children, each with its own `product.updated`.'] },
  orders: { notes: ['A placed order emits one `order.created` per seller, with that seller\'s lines only.', 'A seller reading an order sees only their own lines, and `total` is their subtotal.'] },
  claims: { notes: ['Emits `claim.opened`.'] },
  deliveries: {
    notes: [
      'Each seller of a paid order gets one delivery (from `order.paid`, with `delivery.scheduled`); `shipTo` is null for a pickup.',
      'Shipping is `PATCH /deliveries/:id { status: "shipped" }` by its seller: 409 if it is already shipped, 400 for any other body; it emits `delivery.shipped`.'
    ]
  },
  invoices: {
    notes: [
      'Each seller of a paid order gets one invoice (from `order.paid`, with `invoice.issued`): its lines are the seller\'s lines of the order, `total` their subtotal.',
      '`number` counts 1, 2, 3, ... per seller with no gap and no repeat.'
    ]
  },
  payments: {
    createStatus: 202,
    notes: [
      '`POST /payments` answers 202 with the payment `pending`: its charge runs in a job (never on the request path), which emits `payment.captured` or `payment.failed` (reason `declined`, `invalid_card`, `provider_unavailable`, ...).',
      'Optional header `Idempotency-Key` (1 to 255 visible characters, per buyer): the same key answers with the payment it made, never a second charge; the same key with another body (another order or card) is 409.',
      'An order with a pending or captured payment (or already paid) answers with that payment; a cancelled order is 409; after a failed payment a new one may be made. An order payments has not heard of yet is waited for up to `ORDER_WAIT` (default 5 s), then 404; another buyer\'s order is 404 too.',
      'A capture for an order that was cancelled, or paid by another payment, is refunded once: the payment becomes `refunded` and `payment.refunded` is emitted.'
    ]
  },
  appliances: { createResultExtra: '`token` (string): the appliance\'s token, shown only in this answer', notes: ['Deleting an appliance revokes its token and ends its open streams.'] },
  'maintenance-notices': { notes: ['Creating a notice emits `maintenance.scheduled`; it is pushed to every connected SSE client as `maintenance`.'] },
  receipts: { notes: ['An appliance acknowledges an order it printed: that order is not delivered to it again.'] }
}

/** Public paths served by something other than a resource directory. */
export const specialRoutes: Record<string, string[]> = {
  events: ['`GET /events`: the Server-Sent Events stream, see [SSE](#sse-get-events) below.'],
  health: [
    '`GET /health` (anyone): 200 `{ service, status: "ok", broker: "up", database: "up" }` when the service and its broker and database connections are ready; otherwise 503 (`Unavailable`) with the same report in `data`. Every service answers it on its own port; the public origin answers for the gateway.'
  ],
  warehouse: ['`GET /warehouse?token=<appliance token or seller JWT>`: an HTML page for the warehouse wall, showing incoming orders and maintenance banners live (it reads `/events`).']
}
