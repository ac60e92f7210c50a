// The management API client is shared with the console at /ops; the topology commands import it from here.
export * from '../../shared/ops/management.ts'
