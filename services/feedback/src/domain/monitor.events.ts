import type { MonitorRule } from './monitor-rule.ts'

/**
 * Events of a monitor, subject `feedback.monitor.<monitorId>`. A monitor watches one metric of
 * one model; its state moves OK → PENDING (the condition holds, not yet for its `for` duration)
 * → FIRING → RESOLVED (and PENDING → OK when the condition stops before firing). Every move is
 * an event carrying the values that caused it; webhooks and the retrain trigger react to them.
 */
export const MONITOR_STATES = ['OK', 'PENDING', 'FIRING', 'RESOLVED'] as const
export type MonitorState = (typeof MONITOR_STATES)[number]

export interface MonitorCreated {
  type: 'MonitorCreated'
  data: {
    monitorId: string
    model: string
    /** The model's owner: monitors belong to whoever owns what they watch. */
    ownerId: string
    name: string
    rule: MonitorRule
    webhookUrl: string | null
    /** Ask for a retrain (`RetrainRequested`) when it fires. */
    retrain: boolean
    /** Created by the platform from the released version's test metrics. */
    isDefault: boolean
    createdAt: string
    requestHash?: string
  }
}

export interface MonitorUpdated {
  type: 'MonitorUpdated'
  data: {
    monitorId: string
    name?: string
    rule?: MonitorRule
    webhookUrl?: string | null
    retrain?: boolean
    updatedAt: string
  }
}

export interface MonitorDeleted {
  type: 'MonitorDeleted'
  data: { monitorId: string; deletedAt: string }
}

/** What the evaluation saw when the state changed. */
export interface MonitorObservation {
  /** The model version evaluated. */
  version: number | null
  value: number | null
  threshold: number | null
  /** Labelled predictions (drift: predictions) in the window. */
  samples: number
  window: { name: string; from: string; to: string }
}

export interface MonitorStateChanged {
  type: 'MonitorStateChanged'
  data: {
    monitorId: string
    model: string
    from: MonitorState
    to: MonitorState
    at: string
    rule: MonitorRule
    observation: MonitorObservation
    /** When the condition started holding (PENDING and FIRING). */
    pendingSince: string | null
    reason: string
  }
}

export type MonitorEvent = (
  MonitorCreated | MonitorUpdated | MonitorDeleted | MonitorStateChanged
) & {
  id?: string
}

export const MONITOR_EVENT_TYPES = [
  'MonitorCreated',
  'MonitorUpdated',
  'MonitorDeleted',
  'MonitorStateChanged',
] as const satisfies ReadonlyArray<MonitorEvent['type']>
