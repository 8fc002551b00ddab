/**
 * What the feedback context publishes for others (stream `FEEDBACK`): a monitor or an
 * Alertmanager alert asking for a retrain (the training pipeline reacts), subject
 * `feedback.model.<name>`.
 */
export interface RetrainRequestedData {
  model: string
  /** The version whose quality or drift caused it, when one did. */
  version?: number
  /** `monitor`, `alertmanager`, `labels`, `manual` */
  trigger: string
  monitorId?: string
  reason: string
  /** The values that caused it (metric, threshold, window, label count …). */
  evidence: Record<string, unknown>
  requestedAt: string
}

export const FEEDBACK_EVENTS = {
  retrainRequested: 'RetrainRequested',
} as const
