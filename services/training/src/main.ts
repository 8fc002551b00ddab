// Composition root of the training service.
import { runServiceProcess } from '@argmax/service'
import { loadTrainingConfig } from './config.ts'
import { startTrainingService } from './service.ts'

await runServiceProcess({
  service: 'training',
  loadConfig: () => loadTrainingConfig(),
  start: startTrainingService,
  describe: (config) => ({
    runner: config.training.runner,
    bucket: config.training.bucket,
    slots: config.training.runner === 'local' ? config.training.local.slots : undefined,
  }),
})
