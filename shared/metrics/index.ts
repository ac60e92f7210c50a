export { AppMetrics, type AppMetricsOptions } from './app-metrics.ts'
export { metricsRoute } from './route.ts'
export { BACKLOG_COUNT_CAP } from './tables.ts'
