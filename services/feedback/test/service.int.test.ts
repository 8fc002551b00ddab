import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { startFeedbackService } from '../src/service.ts'
import { FEEDBACK_STREAM } from '../src/streams.ts'

describeServiceShell({
  service: 'feedback',
  start: startFeedbackService,
  stream: FEEDBACK_STREAM,
  subjects: ['feedback.>'],
  apiPath: '/v1/feedback',
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
