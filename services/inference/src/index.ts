export * from './service.ts'
export * from './streams.ts'
export { loadInferenceConfig } from './config.ts'
export type { PredictionLog } from './application/prediction-log.ts'
