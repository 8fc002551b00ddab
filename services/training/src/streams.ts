import type { StreamSpec } from '@argmax/events'

/** The training context's event stream (DESIGN: one stream per context, `<context>.<aggregate>.<id>`). */
export const TRAINING_STREAM = 'TRAINING'

/**
 * Run, quota and pipeline events. The work queues (`TRAINING_QUEUE_*`) and the dead-letter
 * stream come with the run scheduler; their subjects must stay outside `training.>` (JetStream
 * refuses overlapping streams).
 */
export function trainingStreams(replicas: number): StreamSpec[] {
  return [{ name: TRAINING_STREAM, subjects: ['training.>'], retention: 'limits', replicas }]
}
