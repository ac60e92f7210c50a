/**
 * Deletes the queues and exchanges that test and chaos runs leave behind when they are killed
 * (`t_<tag>_<hex>.*`, `chaos_<hex>.*`); a normal run deletes its own as each file ends.
 */
import { Management } from '../shared/testing/broker.ts'

const leftOver = /^(t_[a-z0-9_]+_[0-9a-f]{6}|chaos_[0-9a-f]{6})\./
const deleted = await new Management().deleteWhere((name) => leftOver.test(name))
console.log(`deleted ${deleted} queues and exchanges of earlier test runs`)
