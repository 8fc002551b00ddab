import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { startTrainingService } from '../src/service.ts'
import { TRAINING_STREAM } from '../src/streams.ts'

describeServiceShell({
  service: 'training',
  start: startTrainingService,
  stream: TRAINING_STREAM,
  subjects: ['training.>'],
  apiPath: '/v1/runs',
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
