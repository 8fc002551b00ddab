// Composition root of the registry service.
import { runServiceProcess } from '@argmax/service'
import { loadRegistryConfig } from './config.ts'
import { startRegistryService } from './service.ts'

await runServiceProcess({
  service: 'registry',
  loadConfig: () => loadRegistryConfig(),
  start: startRegistryService,
  describe: (config) => ({
    bucket: config.registry.bucket,
    bootstrapReleases: config.registry.bootstrapReleases,
  }),
})
