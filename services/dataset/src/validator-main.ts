// The validator as its own process: scale it apart from the API (ARGMAX_DATASET_VALIDATOR=off
// there). It needs NATS and S3 only; outcomes are events, so it never touches Postgres.
import { createEventStore, ensureStreams } from '@argmax/events'
import { runServiceProcess } from '@argmax/service'
import { createS3Client } from '@argmax/storage'
import { connect } from 'nats'
import { loadValidatorConfig } from './config.ts'
import { datasetStreamSpec } from './stream-spec.ts'
import { DATASET_STREAM_NAMES, type StreamNames } from './streams.ts'
import { startValidator } from './worker/validation-consumer.ts'

// Tests run the validator against a stream of their own.
const names: StreamNames = {
  stream: process.env['ARGMAX_DATASET_STREAM'] ?? DATASET_STREAM_NAMES.stream,
  root: process.env['ARGMAX_DATASET_SUBJECT_ROOT'] ?? DATASET_STREAM_NAMES.root,
}

await runServiceProcess({
  service: 'dataset-validator',
  loadConfig: () => loadValidatorConfig(),
  servesMetrics: false,
  describe: () => ({ stream: names.stream }),
  async start({ config, logger }) {
    const nc = await connect({
      servers: config.nats.url,
      name: 'dataset-validator',
      maxReconnectAttempts: -1,
    })
    await ensureStreams(await nc.jetstreamManager(), [
      datasetStreamSpec(names, config.nats.streamReplicas),
    ])
    const s3 = createS3Client(config.s3)
    const now = () => new Date()
    const validator = await startValidator({
      nc,
      deps: { store: createEventStore({ nc, now }), names, s3, now },
      ackWaitMs: config.dataset.validatorAckWaitMs,
      readTimeoutMs: config.dataset.validatorReadTimeoutMs,
      maxDeliver: config.dataset.validatorMaxDeliver,
      workers: config.dataset.validatorWorkers,
      logger,
      parkingReplicas: config.nats.streamReplicas,
    })
    return {
      async stop() {
        await validator.stop()
        await nc.drain()
        s3.destroy()
      },
    }
  },
})
