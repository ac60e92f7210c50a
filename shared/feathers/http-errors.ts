import { STATUS_CODES } from 'node:http'
import { errors, FeathersError } from '@feathersjs/errors'

/**
 * Feathers has no classes for some statuses clients still meet (413, 415):
 * these carry their own name and className like every Feathers error, so a
 * client can tell "too large" from "bad input" without reading the message.
 */
export class PayloadTooLarge extends FeathersError {
  constructor(message = 'The request body is too large', data?: unknown) {
    super(message, 'PayloadTooLarge', 413, 'payload-too-large', data)
  }
}

export class UnsupportedMediaType extends FeathersError {
  constructor(message = 'Unsupported media type', data?: unknown) {
    super(message, 'UnsupportedMediaType', 415, 'unsupported-media-type', data)
  }
}

const own: Record<number, new (message?: string, data?: unknown) => FeathersError> = { 413: PayloadTooLarge, 415: UnsupportedMediaType }

/**
 * The Feathers error for an HTTP status (e.g. one raised by Koa or a body
 * reader): Feathers' own class when it has one, ours for 413/415, otherwise
 * one named after the status's reason phrase ("Range Not Satisfiable" ->
 * `RangeNotSatisfiable`, `range-not-satisfiable`).
 */
export function errorForStatus(status: number, message: string, data?: unknown): FeathersError {
  const Known = own[status] ?? (errors as unknown as Record<number, (new (message?: string, data?: unknown) => FeathersError) | undefined>)[status]
  if (Known) return new Known(message, data)
  const phrase = STATUS_CODES[status] ?? 'Error'
  const words = phrase.replace(/[^A-Za-z ]/g, '').split(' ').filter(Boolean)
  return new FeathersError(message, words.join(''), status, words.map((w) => w.toLowerCase()).join('-'), data)
}
