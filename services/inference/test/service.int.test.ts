import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { startInferenceService } from '../src/service.ts'
import { INFERENCE_LOG_STREAM } from '../src/streams.ts'

describeServiceShell({
  service: 'inference',
  start: startInferenceService,
  stream: INFERENCE_LOG_STREAM,
  subjects: ['inference.log.>'],
  // A week, in the nanoseconds JetStream keeps.
  streamConfig: { max_age: 7 * 24 * 3_600 * 1e9 },
  apiPath: '/v2/models/m/infer',
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
