import { Management } from '../../shared/testing/broker.ts'
import { namespacesByFile } from '../../shared/testing/namespace.ts'

/**
 * Mocha root hooks: once a test file is done, delete the queues and exchanges of the namespaces it
 * made. Every quorum queue holds open files on the broker; a whole run leaving hundreds behind
 * exhausts a node started with the common 1,024-descriptor limit, and it then stops accepting
 * connections. Files run one after the other, so a test from a new file means the last one ended.
 */
let lastFile: string | undefined

async function sweep(file: string | undefined): Promise<void> {
  if (!file) return
  const namespaces = namespacesByFile.get(file) ?? []
  namespacesByFile.delete(file)
  if (namespaces.length) await new Management().deleteNamespaces(namespaces)
}

export const mochaHooks = {
  async beforeEach(this: Mocha.Context) {
    const file = this.currentTest?.file
    if (file === lastFile) return
    const finished = lastFile
    lastFile = file
    await sweep(finished)
  },
  async afterAll() {
    await sweep(lastFile)
  }
}
