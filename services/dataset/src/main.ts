// Composition root of the dataset service.
import { runServiceProcess } from '@argmax/service'
import { loadDatasetConfig } from './config.ts'
import { startDatasetService } from './service.ts'

await runServiceProcess({
  service: 'dataset',
  loadConfig: () => loadDatasetConfig(),
  start: startDatasetService,
  describe: (config) => ({ validator: config.dataset.validator, bucket: config.dataset.bucket }),
})
