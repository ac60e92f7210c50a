import type { Command } from 'commander'
import type { DeadLetterFilter } from '../../../shared/ops/dead-letters.ts'

/** `--routing-key` and `--error`, shared by the dlq commands that choose messages. */
export function addFilterOptions(command: Command): Command {
  return command
    .option('--routing-key <key>', 'only messages with this routing key (a topic pattern such as user.* or order.# works too)')
    .option('--error <text>', 'only messages whose error contains this text (case-insensitive)')
}

export function filterOf(options: { id?: string[]; routingKey?: string; error?: string }): DeadLetterFilter {
  return { ids: options.id, routingKey: options.routingKey, error: options.error }
}
