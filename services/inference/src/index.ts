export * from './service.ts'
export * from './streams.ts'
export { loadInferenceConfig } from './config.ts'
// For the gateway benchmark: a log-less gateway, and the sink's rows for its baseline.
export {
  PREDICTION_LOGGED,
  PREDICTIONS_LOGGED,
  type PredictionLog,
} from './application/prediction-log.ts'
export { predictionRows } from './application/prediction-rows.ts'
