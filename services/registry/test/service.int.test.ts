import { fileURLToPath } from 'node:url'
import { describeServiceShell } from '@argmax/service/testing'
import { startRegistryService } from '../src/service.ts'
import { REGISTRY_STREAM } from '../src/streams.ts'

describeServiceShell({
  service: 'registry',
  start: startRegistryService,
  stream: REGISTRY_STREAM,
  subjects: ['registry.>'],
  apiPath: '/v1/models',
  mainFile: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
})
