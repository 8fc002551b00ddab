// Composition root of the inference service.
import { loadShellConfig, runServiceProcess } from '@argmax/service'
import { startInferenceService } from './service.ts'

await runServiceProcess({
  service: 'inference',
  loadConfig: () => loadShellConfig(),
  start: startInferenceService,
})
