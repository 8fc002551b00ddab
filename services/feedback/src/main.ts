// Composition root of the feedback service.
import { loadShellConfig, runServiceProcess } from '@argmax/service'
import { startFeedbackService } from './service.ts'

await runServiceProcess({
  service: 'feedback',
  loadConfig: () => loadShellConfig(),
  start: startFeedbackService,
})
