// Composition root of the feedback service.
import { runServiceProcess } from '@argmax/service'
import { loadFeedbackConfig } from './config.ts'
import { startFeedbackService } from './service.ts'

await runServiceProcess({
  service: 'feedback',
  loadConfig: () => loadFeedbackConfig(),
  start: startFeedbackService,
  describe: (config) => ({
    sink: config.feedback.sink.mode,
    bucket: config.feedback.bucket,
    clickhouseDatabase: config.analytics.database,
  }),
})
