export * from './start-telemetry.ts'
export * from './prometheus-metrics.ts'
export * from './logger.ts'
