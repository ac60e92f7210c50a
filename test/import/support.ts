import { createApp as createCatalog } from '../../services/catalog/app.ts'
import type { CatalogConfig } from '../../services/catalog/config.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { EventTap } from '../../shared/testing/event-tap.ts'
import { call as callApi, type JsonRequest } from '../../shared/testing/http.ts'
import { dropNamespaceSchemas, Management, startApp, testEnv, type RunningApp } from '../../shared/testing/index.ts'

export { csvOf, generatedRows, type CsvRow } from '../../shared/testing/import-files.ts'

/** POST /imports with a CSV body. */
export function upload(baseUrl: string, token: string, csv: string, headers: Record<string, string> = {}) {
  return callApi(baseUrl, 'POST', '/imports', { token, body: csv, headers: { 'content-type': 'text/csv', ...headers } })
}

export const call = (baseUrl: string, method: string, path: string, request?: JsonRequest) => callApi(baseUrl, method, path, request)

/** A test file's `after`: closes what it opened (in the order given, each if it was opened), then removes the namespace. */
export async function cleanUp(ns: string, ...opened: Array<{ stop?(): Promise<void>; close?(): Promise<void> } | undefined>): Promise<void> {
  for (const thing of opened) await (thing?.stop ?? thing?.close)?.call(thing)
  await new Management().deleteNamespace(ns)
  await dropNamespaceSchemas(ns)
}

/**
 * A describe block's reference and catalog apps (the catalog with `config`) and a tap on import.completed,
 * started in `before` and closed in `after`; read them from the returned object inside the tests.
 */
export function importApps(ns: string, config: Partial<CatalogConfig>): { catalog: RunningApp; tap: EventTap } {
  const apps = {} as { reference: RunningApp; catalog: RunningApp; tap: EventTap }
  before(async function () {
    const env = testEnv(ns)
    apps.reference = await startApp(createReference(env))
    apps.catalog = await startApp(createCatalog(env, config))
    apps.tap = await EventTap.open(ns, ['import.completed'])
  })
  after(() => cleanUp(ns, apps.tap, apps.catalog, apps.reference))
  return apps
}
