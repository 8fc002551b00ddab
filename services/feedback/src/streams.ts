import type { StreamSpec } from '@argmax/events'

/** The feedback context's event stream (DESIGN: one stream per context, `<context>.<aggregate>.<id>`). */
export const FEEDBACK_STREAM = 'FEEDBACK'

/**
 * Monitor, trigger (`RetrainRequested`) and feedback-dataset events. Raw ground truth goes to
 * the `FEEDBACK_LOG` stream when ingestion lands; its subjects must stay outside `feedback.>`
 * (JetStream refuses overlapping streams).
 */
export function feedbackStreams(replicas: number): StreamSpec[] {
  return [{ name: FEEDBACK_STREAM, subjects: ['feedback.>'], retention: 'limits', replicas }]
}
