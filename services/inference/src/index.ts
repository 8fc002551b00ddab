export * from './service.ts'
export * from './streams.ts'
export { loadInferenceConfig } from './config.ts'
// For the gateway benchmark: a log-less gateway, filling a log, the sink's rows for its baseline.
export {
  createPredictionLog,
  PREDICTION_LOGGED,
  PREDICTIONS_LOGGED,
  type PredictionLog,
} from './application/prediction-log.ts'
export { PREDICTION_COLUMNS, predictionChunks } from './application/prediction-rows.ts'
