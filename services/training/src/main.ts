// Composition root of the training service.
import { loadShellConfig, runServiceProcess } from '@argmax/service'
import { startTrainingService } from './service.ts'

await runServiceProcess({
  service: 'training',
  loadConfig: () => loadShellConfig(),
  start: startTrainingService,
})
