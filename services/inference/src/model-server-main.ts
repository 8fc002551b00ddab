// Composition root of the model server: its own process, scaled apart from the gateway (on GPU
// nodes where the CUDA provider is configured). It needs S3 and the token verifier only.
import { createRequire } from 'node:module'
import { metrics } from '@opentelemetry/api'
import { runServiceProcess } from '@argmax/service'
import { loadModelServerConfig } from './model-server/config.ts'
import { startModelServer } from './model-server/model-server.ts'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

await runServiceProcess({
  service: 'model-server',
  loadConfig: () => loadModelServerConfig(),
  start: ({ config, logger, metrics: metricsText }) =>
    startModelServer({
      config,
      logger,
      // runServiceProcess registered the Prometheus meter provider globally.
      meter: metrics.getMeter('model-server'),
      metrics: metricsText,
      version,
    }),
  describe: (config) => ({
    executionProvider: config.modelServer.session.executionProvider,
    cacheDir: config.modelServer.cache.directory,
  }),
})
