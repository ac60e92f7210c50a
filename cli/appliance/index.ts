export { runAppliance, TokenRefusedError, type ApplianceOptions, type RunningAppliance } from './appliance.ts'
export { parseApplianceArgs, applianceUsage, type ParsedApplianceArgs } from './args.ts'
export { formatReceipt } from './receipt.ts'
