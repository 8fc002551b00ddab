// Composition root of the registry service.
import { loadShellConfig, runServiceProcess } from '@argmax/service'
import { startRegistryService } from './service.ts'

await runServiceProcess({
  service: 'registry',
  loadConfig: () => loadShellConfig(),
  start: startRegistryService,
})
