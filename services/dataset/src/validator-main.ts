// The validator as its own process: scale it apart from the API (ARGMAX_DATASET_VALIDATOR=off
// there). It needs NATS and S3 only; outcomes are events, so it never touches Postgres.
import { runServiceProcess, startWorkerShell } from '@argmax/service'
import { loadValidatorConfig } from './config.ts'
import { datasetUpcast } from './domain/upcasters.ts'
import { datasetStreamSpec } from './streams.ts'
import { startValidator } from './workers/validation-consumer.ts'

await runServiceProcess({
  service: 'dataset-validator',
  loadConfig: () => loadValidatorConfig(),
  servesMetrics: false,
  describe: (config) => ({ stream: config.dataset.names.stream }),
  start: ({ config, logger }) => {
    const names = config.dataset.names
    return startWorkerShell(
      {
        service: 'dataset-validator',
        streams: (replicas) => [datasetStreamSpec(names, replicas)],
        upcast: datasetUpcast,
        s3: { settings: config.s3, bucket: config.dataset.bucket },
        dependencies: (parts) => ({ store: parts.store, names, s3: parts.s3, now: parts.now }),
        workers: {
          validator: (deps, parts) =>
            startValidator({
              nc: parts.nc,
              deps,
              ackWaitMs: config.dataset.validatorAckWaitMs,
              readTimeoutMs: config.dataset.validatorReadTimeoutMs,
              maxDeliver: config.dataset.validatorMaxDeliver,
              workers: config.dataset.validatorWorkers,
              logger,
              parkingReplicas: config.nats.streamReplicas,
            }),
        },
      },
      { config, logger },
    )
  },
})
