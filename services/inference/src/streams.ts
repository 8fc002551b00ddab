import type { StreamSpec } from '@argmax/events'

/**
 * The streams inference owns and the ones it reads. Names are values rather than constants so
 * tests running side by side each get streams of their own (production uses the defaults).
 *
 * - `INFERENCE_LOG` (`inference.log.<model>`): the record of every answered request
 *   (`PredictionLogRecord`), written by the gateway, read by the ClickHouse sink. A log with
 *   limits retention, not domain events.
 * - `INFERENCE` (`inference.batch.<id>`): the events of batch predictions, inference's only
 *   aggregate. Its subjects stay outside `inference.log.>`: JetStream refuses overlapping
 *   streams, which is why it does not capture `inference.>`.
 * - Read, never written: `REGISTRY` (`registry.model.<name>`, `registry.release.<name>`: what
 *   to serve) and `DATASET` (`dataset.version.<id>`: where a batch's input file is).
 */
export interface InferenceStreamNames {
  log: { stream: string; subjectPrefix: string }
  batch: { stream: string; subjectPrefix: string }
  registry: { stream: string; root: string }
  dataset: { stream: string; root: string }
}

export const INFERENCE_LOG_STREAM = 'INFERENCE_LOG'
export const INFERENCE_STREAM = 'INFERENCE'

export const INFERENCE_STREAM_NAMES: InferenceStreamNames = {
  log: { stream: INFERENCE_LOG_STREAM, subjectPrefix: 'inference.log' },
  batch: { stream: INFERENCE_STREAM, subjectPrefix: 'inference.batch' },
  registry: { stream: 'REGISTRY', root: 'registry' },
  dataset: { stream: 'DATASET', root: 'dataset' },
}

/** Kept a week in JetStream: enough for the ClickHouse sink to catch up after any outage. */
export const INFERENCE_LOG_MAX_AGE_MS = 7 * 24 * 3_600_000

export function logSubject(names: InferenceStreamNames, model: string): string {
  return `${names.log.subjectPrefix}.${model}`
}

export function batchSubject(names: InferenceStreamNames, batchId: string): string {
  return `${names.batch.subjectPrefix}.${batchId}`
}

export function registrySubjects(names: InferenceStreamNames): string {
  return `${names.registry.root}.>`
}

export function datasetVersionSubject(names: InferenceStreamNames, versionId: string): string {
  return `${names.dataset.root}.version.${versionId}`
}

export function inferenceStreams(names: InferenceStreamNames): (replicas: number) => StreamSpec[] {
  return (replicas) => [
    {
      name: names.log.stream,
      subjects: [`${names.log.subjectPrefix}.>`],
      retention: 'limits',
      maxAge: INFERENCE_LOG_MAX_AGE_MS,
      // Records are published with their id as Nats-Msg-Id: a publish retried within this
      // window (the gateway's async buffer re-sending after a lost ack) is stored once.
      duplicateWindow: 2 * 60 * 1000,
      replicas,
    },
    {
      name: names.batch.stream,
      subjects: [`${names.batch.subjectPrefix}.>`],
      retention: 'limits',
      duplicateWindow: 2 * 60 * 1000,
      replicas,
    },
  ]
}
