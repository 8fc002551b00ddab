// Composition root of the inference service (the gateway, with the prediction-log sink embedded
// unless ARGMAX_INFERENCE_SINK=off).
import { runServiceProcess } from '@argmax/service'
import { loadInferenceConfig } from './config.ts'
import { startInferenceService } from './service.ts'

await runServiceProcess({
  service: 'inference',
  loadConfig: () => loadInferenceConfig(),
  start: startInferenceService,
  describe: (config) => ({
    grpc: `${config.inference.grpc.host}:${config.inference.grpc.port}`,
    modelServers: config.inference.modelServers,
    logMode: config.inference.log.mode,
    sink: config.inference.sink.mode,
  }),
})
