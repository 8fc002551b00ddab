export {
  INFERENCE_PROTO_PATH,
  INFERENCE_SERVICE_NAME,
  PROTO_LOADER_OPTIONS,
  loadInferencePackageDefinition,
  loadInferenceService,
} from './inference.ts'
