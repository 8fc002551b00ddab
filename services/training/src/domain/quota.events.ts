/**
 * Events of a user's quota, subject `training.quota.<user>` of stream TRAINING: every
 * submission that was admitted (and the slot it holds), every slot given back, and the limits
 * an admin set for the user. One subject per user, so each admission is decided against
 * everything before it with the event store's expected sequence: the quota is exact across
 * replicas.
 */
export interface QuotaLimits {
  /** Runs PENDING or TRAINING at once (a retry waiting counts). */
  concurrent: number
  /** Submissions in any rolling hour. */
  hourly: number
  /** Submissions per UTC day (00:00 to 24:00). */
  daily: number
}

export type QuotaOverride = Partial<QuotaLimits>

export interface QuotaAdmitted {
  type: 'QuotaAdmitted'
  data: {
    userId: string
    runId: string
    admittedAt: string
    /**
     * `submission`: a user's new run, counted in the hourly and daily windows. `reconciled`: a
     * run found queued without an admission. `admin_retry`: a dead-lettered run an admin
     * retried. The last two hold a slot but are no submission.
     */
    reason: 'submission' | 'reconciled' | 'admin_retry'
  }
}

export interface QuotaReleased {
  type: 'QuotaReleased'
  data: {
    userId: string
    runId: string
    releasedAt: string
    /** `finished`: the run ended (or was dead-lettered); `orphaned`: its run was never written. */
    reason: 'finished' | 'orphaned'
  }
}

export interface QuotaOverrideSet {
  type: 'QuotaOverrideSet'
  data: {
    userId: string
    /** The user's own limits; a missing one falls back to the role's default. */
    override: QuotaOverride
    by: string
    setAt: string
  }
}

export type QuotaEvent = (QuotaAdmitted | QuotaReleased | QuotaOverrideSet) & { id?: string }

export const QUOTA_EVENT_TYPES = [
  'QuotaAdmitted',
  'QuotaReleased',
  'QuotaOverrideSet',
] as const satisfies ReadonlyArray<QuotaEvent['type']>
