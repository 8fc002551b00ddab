import type { Release, RolloutPromotedData, RolloutRevertedData } from '@argmax/contracts'
import type { Check, RolloutCriteria, StepSignals } from './rollout-judgement.ts'

/**
 * The rollouts of one model, subject `registry.rollout.<name>`: one subject per model, so "one
 * active rollout per model" is decided on one aggregate with an expected sequence. Decisions
 * (started, judged, paused, approved, aborted, rollback requested) are recorded first; what
 * they make happen to the release is done after and recorded as its own event (step started,
 * promoted, reverted) with the release's position, so a restart does what is left, once.
 */
interface Ids {
  /** `<model>.<n>`: n counts the model's rollouts from 1. */
  rolloutId: string
  model: string
}

interface ByOperator {
  by: string
  reason: string
  at: string
}

export interface RolloutStarted {
  type: 'RolloutStarted'
  data: Ids & {
    candidate: number
    /** The stable version the candidate is compared with (the release's stable when started). */
    stable: number
    /** Canary percentages, increasing, the last 100. */
    steps: number[]
    criteria: RolloutCriteria
    /** An admin approves each next step (and the promotion) after a step passes. */
    requireApproval: boolean
    startedBy: string
    reason: string
    startedAt: string
    idempotencyId?: string
    requestHash?: string
  }
}

/** The release now sends `percent` % of the traffic to the candidate: the window starts. */
export interface RolloutStepStarted {
  type: 'RolloutStepStarted'
  data: Ids & {
    step: number
    percent: number
    release: Release
    /** The REGISTRY sequence of the release change (what inference logs as release_sequence). */
    releasePosition: number
    startedAt: string
  }
}

export interface RolloutStepJudged {
  type: 'RolloutStepJudged'
  data: Ids & {
    step: number
    percent: number
    verdict: 'pass' | 'fail'
    signals: StepSignals
    checks: Check[]
    reasons: string[]
    /** What follows: the next step, an admin's approval, the promotion, or the rollback. */
    next: 'step' | 'approval' | 'promote' | 'rollback'
    judgedAt: string
  }
}

export interface RolloutPaused {
  type: 'RolloutPaused'
  data: Ids & ByOperator
}

/** The step's window starts again from here: what was seen while paused is not judged. */
export interface RolloutResumed {
  type: 'RolloutResumed'
  data: Ids & ByOperator
}

export interface RolloutApproved {
  type: 'RolloutApproved'
  data: Ids & ByOperator & { next: 'step' | 'promote' }
}

/**
 * Stopped without a verdict on the candidate. `leaveRelease`: stopped by the rollout worker
 * because the release cannot be driven (changed by hand meanwhile, or refused the step's
 * change); the rollout leaves the release as it is.
 */
export interface RolloutAborted {
  type: 'RolloutAborted'
  data: Ids & ByOperator & { leaveRelease?: boolean }
}

/** An operator judged the candidate bad: during the canary, or after promotion (one step). */
export interface RolloutRollbackRequested {
  type: 'RolloutRollbackRequested'
  data: Ids & ByOperator & { from: 'canary' | 'promoted'; restore: number }
}

/** Published language: `RolloutPromotedData` of `@argmax/contracts`, unchanged. */
export interface RolloutPromoted {
  type: 'RolloutPromoted'
  data: RolloutPromotedData
}

/** The release no longer serves the candidate (or was left alone), the outcome is final. */
export interface RolloutReverted {
  type: 'RolloutReverted'
  data: RolloutRevertedData
}

export type RolloutEvent = (
  | RolloutStarted
  | RolloutStepStarted
  | RolloutStepJudged
  | RolloutPaused
  | RolloutResumed
  | RolloutApproved
  | RolloutAborted
  | RolloutRollbackRequested
  | RolloutPromoted
  | RolloutReverted
) & { id?: string }

export const ROLLOUT_EVENT_TYPES = [
  'RolloutStarted',
  'RolloutStepStarted',
  'RolloutStepJudged',
  'RolloutPaused',
  'RolloutResumed',
  'RolloutApproved',
  'RolloutAborted',
  'RolloutRollbackRequested',
  'RolloutPromoted',
  'RolloutReverted',
] as const satisfies ReadonlyArray<RolloutEvent['type']>
