import { Ajv, addFormats } from '@feathersjs/schema'
import type { ValidateFunction } from 'ajv'
import { contracts, isRoutingKey, type EventPayload, type RoutingKey } from './index.ts'
import { findUnstorableText } from '../text/storable.ts'

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }), ['date-time', 'email', 'uuid'])
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

/** Checks a payload against the contract of its routing key; the reason names the failing fields. */
export function checkContract<K extends RoutingKey>(key: string, payload: unknown): ContractCheck<K> {
  if (!isRoutingKey(key)) return { ok: false, reason: `no contract for routing key "${key}"` }
  const validate = validatorFor(key)
  if (validate(payload)) {
    // Valid by its schema, yet text PostgreSQL cannot store would fail every consumer's insert on every retry.
    const unstorableText = findUnstorableText(payload, 'payload')
    if (!unstorableText.length) return { ok: true, payload: payload as EventPayload<K> }
    return { ok: false, reason: `payload does not match ${key}: ${unstorableText.map((p) => `${p.instancePath || '/'} ${p.message}`).join('; ')}` }
  }
  const reason = (validate.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ')
  return { ok: false, reason: `payload does not match ${key}: ${reason}` }
}
