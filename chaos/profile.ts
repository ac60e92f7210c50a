/** The chaos profile asked for: `npm run chaos -- --profile <name>` (or `--profile=<name>`), else CHAOS_PROFILE, else full. */
export function chosenProfile(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): string {
  const at = argv.findIndex((a) => a === '--profile' || a.startsWith('--profile='))
  const named = at < 0 ? undefined : argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1]
  return named || env.CHAOS_PROFILE || 'full'
}
