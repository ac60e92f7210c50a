export * from './provider.ts'
export * from './spans.ts'
export * from './traceparent.ts'
