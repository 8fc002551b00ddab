import type { StreamSpec } from '@argmax/events'

/**
 * The streams feedback owns and the ones it reads. Names are values rather than constants so
 * tests running side by side each get streams of their own (production uses the defaults).
 *
 * Owned:
 * - `FEEDBACK` (`feedback.>`): the context's domain events — `feedback.monitor.<id>` (monitors
 *   and their state changes), `feedback.model.<name>` (`RetrainRequested`, pins),
 *   `feedback.dataset.<id>` (feedback datasets), `feedback.import.<id>` (label imports).
 * - `FEEDBACK_LOG` (`feedbacklog.<model>`): the labels as received, batches of `LabelsReceived`
 *   records — a log that the ClickHouse sink turns into rows, not domain events. Its subjects
 *   sit outside `feedback.>`: JetStream refuses overlapping streams.
 *
 * Read, never written: `REGISTRY` (models, versions, releases: who owns a model, a version's
 * signature and test metrics, its training dataset), `DATASET` (training profiles; the
 * versions feedback datasets became), and — for the analysts' `domain_events` table — every
 * context stream.
 */
export interface StreamRef {
  stream: string
  /** First subject token. */
  root: string
}

export interface FeedbackStreamNames {
  feedback: StreamRef
  log: StreamRef
  registry: StreamRef
  dataset: StreamRef
  training: StreamRef
}

export const FEEDBACK_STREAM = 'FEEDBACK'
export const FEEDBACK_LOG_STREAM = 'FEEDBACK_LOG'

export const FEEDBACK_STREAM_NAMES: FeedbackStreamNames = {
  feedback: { stream: FEEDBACK_STREAM, root: 'feedback' },
  log: { stream: FEEDBACK_LOG_STREAM, root: 'feedbacklog' },
  registry: { stream: 'REGISTRY', root: 'registry' },
  dataset: { stream: 'DATASET', root: 'dataset' },
  training: { stream: 'TRAINING', root: 'training' },
}

/** Kept two weeks in JetStream: the sink catches up after any outage well within that. */
export const FEEDBACK_LOG_MAX_AGE_MS = 14 * 24 * 3_600_000

export const subjects = {
  monitor: (names: FeedbackStreamNames, monitorId: string) =>
    `${names.feedback.root}.monitor.${monitorId}`,
  model: (names: FeedbackStreamNames, model: string) => `${names.feedback.root}.model.${model}`,
  dataset: (names: FeedbackStreamNames, feedbackDatasetId: string) =>
    `${names.feedback.root}.dataset.${feedbackDatasetId}`,
  import: (names: FeedbackStreamNames, importId: string) =>
    `${names.feedback.root}.import.${importId}`,
  labels: (names: FeedbackStreamNames, model: string) => `${names.log.root}.${model}`,
  registryModel: (names: FeedbackStreamNames, model: string) =>
    `${names.registry.root}.model.${model}`,
  datasetVersion: (names: FeedbackStreamNames, versionId: string) =>
    `${names.dataset.root}.version.${versionId}`,
}

export function feedbackStreams(names: FeedbackStreamNames): (replicas: number) => StreamSpec[] {
  return (replicas) => [
    {
      name: names.feedback.stream,
      subjects: [`${names.feedback.root}.>`],
      retention: 'limits',
      replicas,
      storage: 'file',
      // Derived event ids (state changes, retrain requests) make a retried append a no-op.
      duplicateWindow: 2 * 60 * 1000,
    },
    {
      name: names.log.stream,
      subjects: [`${names.log.root}.>`],
      retention: 'limits',
      maxAge: FEEDBACK_LOG_MAX_AGE_MS,
      replicas,
      storage: 'file',
      // A label batch re-sent after a lost ack (same record id) is stored once.
      duplicateWindow: 2 * 60 * 1000,
    },
  ]
}
