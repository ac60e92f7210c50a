import type { ConsumeMessage, MessageProperties } from 'amqplib'
import type { Knex } from 'knex'

/** Where a partitioned consumer parks its keys: the service's pool and schema. */
export interface ParkingDatabase {
  db: Knex
  schema: string
}

/** A message as parked: enough to hand it to the handler again or dead-letter it unchanged. */
export interface ParkedMessage {
  id: string
  messageId: string
  routingKey: string
  exchange: string
  body: Buffer
  properties: MessageProperties
}

export interface ParkedKey {
  consumer: string
  key: string
  partition: number
  attempts: number
  parkedAt: Date
  nextRetryAt: Date
  lastError: string | null
  /** messages waiting, the head included */
  messages: number
}

/** What the consumer knows of a message it parks. */
export interface MessageToPark {
  messageId: string
  routingKey: string
  exchange: string
  message: ConsumeMessage
}

interface ParkedMessageRow {
  id: string
  message_id: string
  routing_key: string
  exchange: string
  body: Buffer
  properties: MessageProperties
}

/**
 * The parked keys of one schema, in SQL. A key's row is the lock that orders
 * everything done to it: appending behind it, retrying its head, skipping it,
 * unparking it all take the row first (FOR UPDATE), so they happen one after
 * the other in whatever process they run.
 */
export class ParkStore {
  constructor(private readonly database: ParkingDatabase) {}

  private table(db: Knex | Knex.Transaction, name: 'parked_keys' | 'parked_messages') {
    return db.withSchema(this.database.schema).table(name)
  }

  /** The keys parked now on one partition of the consumer. */
  async parkedIn(consumer: string, partition: number): Promise<Set<string>> {
    const rows = (await this.table(this.database.db, 'parked_keys').where({ consumer, partition }).select('key')) as Array<{ key: string }>
    return new Set(rows.map((r) => r.key))
  }

  /** Parks the key with its failing message (or, already parked, appends it), in one transaction. */
  async park(consumer: string, key: string, partition: number, parked: MessageToPark, error: string, retryInMs: number): Promise<void> {
    await this.database.db.transaction(async (trx) => {
      await this.table(trx, 'parked_keys')
        .insert({ consumer, key, partition, attempts: 0, last_error: error, next_retry_at: trx.raw(`now() + ? * interval '1 millisecond'`, [retryInMs]) })
        .onConflict(['consumer', 'key'])
        .ignore()
      await this.insertMessage(trx, consumer, key, parked)
    })
  }

  /** Appends a message behind a parked key; false (nothing stored) when the key is no longer parked. */
  async appendIfParked(consumer: string, key: string, parked: MessageToPark): Promise<boolean> {
    return this.database.db.transaction(async (trx) => {
      const row = await this.table(trx, 'parked_keys').where({ consumer, key }).forUpdate().first('key')
      if (!row) return false
      await this.insertMessage(trx, consumer, key, parked)
      return true
    })
  }

  private async insertMessage(trx: Knex.Transaction, consumer: string, key: string, parked: MessageToPark): Promise<void> {
    await this.table(trx, 'parked_messages')
      .insert({
        consumer,
        key,
        message_id: parked.messageId,
        routing_key: parked.routingKey,
        exchange: parked.exchange,
        body: parked.message.content,
        properties: JSON.stringify(parked.message.properties)
      })
      .onConflict(['consumer', 'message_id'])
      .ignore()
  }

  /**
   * Takes one parked key of the consumer that is due for a retry, locked for
   * this transaction (others skip it), and hands its head message to `work`;
   * false when no key is due. `work` says what became of the head.
   */
  async withDueKey(
    consumer: string,
    work: (due: { key: string; partition: number; attempts: number; head: ParkedMessage | undefined }, trx: Knex.Transaction) => Promise<HeadOutcome>
  ): Promise<{ key: string; outcome: HeadOutcome | 'unparked' } | undefined> {
    return this.database.db.transaction(async (trx) => {
      const due = await this.table(trx, 'parked_keys')
        .where({ consumer })
        .andWhere('next_retry_at', '<=', trx.fn.now())
        .orderBy('next_retry_at')
        .forUpdate()
        .skipLocked()
        .first('key', 'partition', 'attempts')
      if (!due) return undefined
      const key = due.key as string
      const head = await this.head(trx, consumer, key)
      const outcome = await work({ key, partition: Number(due.partition), attempts: Number(due.attempts), head }, trx)
      if (outcome.kind === 'failed') {
        await this.table(trx, 'parked_keys')
          .where({ consumer, key })
          .update({ attempts: trx.raw('attempts + 1'), last_error: outcome.error, next_retry_at: trx.raw(`now() + ? * interval '1 millisecond'`, [outcome.retryInMs]) })
        return { key, outcome }
      }
      if (head) await this.table(trx, 'parked_messages').where({ id: head.id }).delete()
      return { key, outcome: (await this.releaseIfEmpty(trx, consumer, key)) ? 'unparked' : outcome }
    })
  }

  /** After its head went: unparks an empty key, else makes the next head due at once. True when unparked. */
  async releaseIfEmpty(trx: Knex.Transaction, consumer: string, key: string): Promise<boolean> {
    const next = await this.table(trx, 'parked_messages').where({ consumer, key }).first('id')
    if (!next) {
      await this.table(trx, 'parked_keys').where({ consumer, key }).delete()
      return true
    }
    await this.table(trx, 'parked_keys').where({ consumer, key }).update({ attempts: 0, last_error: null, next_retry_at: trx.fn.now() })
    return false
  }

  async head(trx: Knex.Transaction, consumer: string, key: string): Promise<ParkedMessage | undefined> {
    const row = (await this.table(trx, 'parked_messages').where({ consumer, key }).orderBy('id').first(
      'id', 'message_id', 'routing_key', 'exchange', 'body', 'properties'
    )) as ParkedMessageRow | undefined
    return row && {
      id: String(row.id), messageId: row.message_id, routingKey: row.routing_key, exchange: row.exchange, body: row.body, properties: row.properties
    }
  }

  /** Locks one parked key for an operator's command (waits for a retry in progress); undefined when not parked. */
  async lockKey(trx: Knex.Transaction, consumer: string, key: string): Promise<boolean> {
    return (await this.table(trx, 'parked_keys').where({ consumer, key }).forUpdate().first('key')) !== undefined
  }

  /**
   * The operator's skip: hands the key's head message to `deadLetter` (which
   * must not return before the broker has it), removes it, and lets the rest
   * drain at once; a key left empty is unparked. Undefined when not parked.
   */
  async skipHead(
    consumer: string,
    key: string,
    deadLetter: (head: ParkedMessage, parked: { partition: number; attempts: number; lastError: string | null }) => Promise<void>
  ): Promise<{ skipped: string | null; remaining: number; unparked: boolean } | undefined> {
    return this.database.db.transaction(async (trx) => {
      // Waits for a retry of this key in progress elsewhere: the head is either handled by it or skipped here, never both.
      const row = await this.table(trx, 'parked_keys').where({ consumer, key }).forUpdate().first('partition', 'attempts', 'last_error')
      if (!row) return undefined
      const head = await this.head(trx, consumer, key)
      if (head) {
        await deadLetter(head, { partition: Number(row.partition), attempts: Number(row.attempts), lastError: row.last_error ?? null })
        await this.table(trx, 'parked_messages').where({ id: head.id }).delete()
      }
      const [{ count }] = await this.table(trx, 'parked_messages').where({ consumer, key }).count({ count: '*' })
      const unparked = await this.releaseIfEmpty(trx, consumer, key)
      return { skipped: head?.messageId ?? null, remaining: Number(count), unparked }
    })
  }

  /** Makes a parked key due now (the operator's retry). False when it is not parked. */
  async retryNow(consumer: string, key: string): Promise<boolean> {
    const updated = await this.table(this.database.db, 'parked_keys').where({ consumer, key }).update({ next_retry_at: this.database.db.fn.now() })
    return updated > 0
  }

  /** Every parked key (of one consumer, or all), oldest first, with how many messages wait behind it. */
  async list(consumer?: string): Promise<ParkedKey[]> {
    const { db, schema } = this.database
    const query = db
      .withSchema(schema)
      .table('parked_keys as k')
      .select('k.consumer', 'k.key', 'k.partition', 'k.attempts', 'k.parked_at', 'k.next_retry_at', 'k.last_error')
      .select(db.raw('(select count(*) from ??.parked_messages m where m.consumer = k.consumer and m.key = k.key) as messages', [schema]))
      .orderBy('k.parked_at')
    if (consumer) query.where('k.consumer', consumer)
    const rows = (await query) as Array<Record<string, unknown>>
    return rows.map((r) => ({
      consumer: String(r.consumer),
      key: String(r.key),
      partition: Number(r.partition),
      attempts: Number(r.attempts),
      parkedAt: new Date(r.parked_at as string),
      nextRetryAt: new Date(r.next_retry_at as string),
      lastError: (r.last_error as string | null) ?? null,
      messages: Number(r.messages)
    }))
  }
}

/** What became of a parked key's head message in one retry. */
export type HeadOutcome =
  | { kind: 'handled' }
  | { kind: 'dead-lettered' }
  | { kind: 'failed'; error: string; retryInMs: number }
  | { kind: 'missing' }

/** A parked message as a delivery again, for the handler and for dead letters (never settled on a channel). */
export function asDelivery(parked: ParkedMessage): ConsumeMessage {
  return {
    content: parked.body,
    fields: { deliveryTag: 0, redelivered: true, exchange: parked.exchange, routingKey: parked.routingKey, consumerTag: '' },
    properties: parked.properties
  }
}
