import { readEnv, type BazaarEnv } from '../config/env.ts'

/** The environment a test's services run with: the machine's broker and database, the test's namespace. */
export function testEnv(namespace: string, overrides: Partial<BazaarEnv> = {}): BazaarEnv {
  return { ...readEnv({ ...process.env, BAZAAR_NAMESPACE: namespace }), port: 0, ...overrides }
}
