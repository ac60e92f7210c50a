import { Ajv, addFormats } from '@feathersjs/schema'
import type { ValidateFunction } from 'ajv'
import { contracts, isRoutingKey, type EventPayload, type RoutingKey } from './index.ts'
import { findUnstorableText, jsonMayHoldUnstorableText } from '../text/storable.ts'
import { withFastIsoTimestamps } from './date-time-format.ts'

const ajv = withFastIsoTimestamps(addFormats(new Ajv({ allErrors: true, strict: false }), ['date-time', 'email', 'uuid']))
const compiled = new Map<RoutingKey, ValidateFunction>()

function validatorFor(key: RoutingKey): ValidateFunction {
  let validate = compiled.get(key)
  if (!validate) {
    validate = ajv.compile(contracts[key])
    compiled.set(key, validate)
  }
  return validate
}

export type ContractCheck<K extends RoutingKey> =
  | { ok: true; payload: EventPayload<K> }
  | { ok: false; reason: string }

/**
 * Checks a payload against the contract of its routing key; the reason names the failing fields.
 * `json`: the payload's JSON text, when the caller has it (the body it was parsed from, or what will be
 * sent): then text PostgreSQL cannot store is looked for in that one string instead of in every string
 * and key of the value, which at thousands of messages a second was half the cost of the check.
 */
export function checkContract<K extends RoutingKey>(key: string, payload: unknown, json?: string): ContractCheck<K> {
  if (!isRoutingKey(key)) return { ok: false, reason: `no contract for routing key "${key}"` }
  const validate = validatorFor(key)
  if (validate(payload)) {
    // Valid by its schema, yet text PostgreSQL cannot store would fail every consumer's insert on every retry.
    if (json !== undefined && !jsonMayHoldUnstorableText(json)) return { ok: true, payload: payload as EventPayload<K> }
    const unstorableText = findUnstorableText(payload, 'payload')
    if (!unstorableText.length) return { ok: true, payload: payload as EventPayload<K> }
    return { ok: false, reason: `payload does not match ${key}: ${unstorableText.map((p) => `${p.instancePath || '/'} ${p.message}`).join('; ')}` }
  }
  const reason = (validate.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ')
  return { ok: false, reason: `payload does not match ${key}: ${reason}` }
}
