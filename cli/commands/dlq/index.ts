import type { Command } from 'commander'
import { registerDlqExport } from './export.ts'
import { registerDlqList } from './list.ts'
import { registerDlqPurge } from './purge.ts'
import { registerDlqReplay } from './replay.ts'
import { registerDlqShow } from './show.ts'

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead-letter queues: list, show, replay, export, purge')
  registerDlqList(dlq)
  registerDlqShow(dlq)
  registerDlqReplay(dlq)
  registerDlqExport(dlq)
  registerDlqPurge(dlq)
}
