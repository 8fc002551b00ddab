import { RateLimitedError } from '@argmax/errors'
import type { AggregateDecider } from '@argmax/events'
import {
  QUOTA_EVENT_TYPES,
  type QuotaAdmitted,
  type QuotaEvent,
  type QuotaLimits,
  type QuotaOverride,
  type QuotaReleased,
} from './quota.events.ts'

const HOUR_MS = 3600_000
const DAY_MS = 24 * HOUR_MS
/** Submissions older than this relative to the newest can no longer count in any window. */
const KEEP_MS = 2 * DAY_MS

/**
 * Over the concurrency limit nobody knows when a slot frees: a run ends when it ends. One
 * minute is short enough that a client polling on it loses little time once a run finishes,
 * and long enough that it does not hammer the API (the real wait is minutes to hours).
 */
export const CONCURRENCY_RETRY_AFTER_SECONDS = 60

export type QuotaName = 'concurrent' | 'hourly' | 'daily'

/** 429: which quota, its limit, how much is used, when to come back. */
export class QuotaExceededError extends RateLimitedError {
  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
    readonly used: number,
    retryAfterSeconds: number,
    readonly exceeded: QuotaName[],
  ) {
    super(describe(quota, limit, retryAfterSeconds), retryAfterSeconds)
    Object.assign(this.details, { quota, limit, used, exceeded })
  }
}

function describe(quota: QuotaName, limit: number, retryAfterSeconds: number): string {
  switch (quota) {
    case 'concurrent':
      return `quota 'concurrent' exceeded: at most ${limit} runs may be PENDING or TRAINING at once (a run waiting for its retry counts); try again once one of them ends`
    case 'hourly':
      return `quota 'hourly' exceeded: at most ${limit} runs may be submitted in any rolling hour; the next slot frees in ${retryAfterSeconds} s`
    case 'daily':
      return `quota 'daily' exceeded: at most ${limit} runs may be submitted per UTC day; it resets at 00:00 UTC, in ${retryAfterSeconds} s`
  }
}

export interface QuotaState {
  /** Runs holding a slot, with when they were admitted. */
  active: Record<string, string>
  /** Counted submissions (newest two days), in admission order. */
  submissions: Array<{ runId: string; at: string }>
  override: QuotaOverride
}

export const initialQuotaState: QuotaState = { active: {}, submissions: [], override: {} }

export type QuotaCommand =
  | {
      type: 'Admit'
      data: {
        userId: string
        runId: string
        /** The role's defaults; the user's override (in the state) wins field by field. */
        defaults: QuotaLimits
        now: Date
      }
    }
  | {
      type: 'AdmitWithoutCounting'
      data: {
        userId: string
        runId: string
        reason: 'reconciled' | 'admin_retry'
        now: Date
      }
    }
  | {
      type: 'Release'
      data: { userId: string; runId: string; reason: QuotaReleased['data']['reason']; now: Date }
    }
  | {
      type: 'SetOverride'
      data: { userId: string; override: QuotaOverride; by: string; now: Date }
    }

export function evolveQuota(state: QuotaState, event: QuotaEvent): QuotaState {
  switch (event.type) {
    case 'QuotaAdmitted': {
      const { runId, admittedAt, reason } = event.data
      const active = { ...state.active, [runId]: admittedAt }
      if (reason !== 'submission') return { ...state, active }
      const cutoff = Date.parse(admittedAt) - KEEP_MS
      const submissions = [
        ...state.submissions.filter((s) => Date.parse(s.at) >= cutoff),
        { runId, at: admittedAt },
      ]
      return { ...state, active, submissions }
    }
    case 'QuotaReleased': {
      const { [event.data.runId]: _released, ...active } = state.active
      // An orphan's submission never became a run: it no longer counts.
      const submissions =
        event.data.reason === 'orphaned'
          ? state.submissions.filter((s) => s.runId !== event.data.runId)
          : state.submissions
      return { ...state, active, submissions }
    }
    case 'QuotaOverrideSet':
      return { ...state, override: event.data.override }
    default: {
      const unknownEvent: never = event
      return unknownEvent
    }
  }
}

export function effectiveLimits(defaults: QuotaLimits, override: QuotaOverride): QuotaLimits {
  return {
    concurrent: override.concurrent ?? defaults.concurrent,
    hourly: override.hourly ?? defaults.hourly,
    daily: override.daily ?? defaults.daily,
  }
}

export interface QuotaUsage {
  concurrent: number
  hourly: number
  daily: number
}

export function quotaUsage(state: QuotaState, now: Date): QuotaUsage {
  const hourStart = now.getTime() - HOUR_MS
  const dayStart = utcMidnight(now)
  let hourly = 0
  let daily = 0
  for (const s of state.submissions) {
    const at = Date.parse(s.at)
    if (at > hourStart && at <= now.getTime()) hourly++
    if (at >= dayStart && at <= now.getTime()) daily++
  }
  return { concurrent: Object.keys(state.active).length, hourly, daily }
}

function utcMidnight(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
}

/**
 * Seconds until one more submission fits each window that is full: the hourly one when its
 * oldest counted submission (the one whose leaving makes room) is an hour old, the daily one
 * at the next 00:00 UTC; the concurrency one is unknown (see CONCURRENCY_RETRY_AFTER_SECONDS).
 */
export function checkQuota(
  state: QuotaState,
  limits: QuotaLimits,
  now: Date,
): QuotaExceededError | undefined {
  const usage = quotaUsage(state, now)
  const exceeded: Array<{ quota: QuotaName; limit: number; used: number; wait: number }> = []
  if (usage.daily >= limits.daily) {
    const wait = Math.ceil((utcMidnight(now) + DAY_MS - now.getTime()) / 1000)
    exceeded.push({ quota: 'daily', limit: limits.daily, used: usage.daily, wait })
  }
  if (usage.hourly >= limits.hourly) {
    const inWindow = state.submissions
      .map((s) => Date.parse(s.at))
      .filter((at) => at > now.getTime() - HOUR_MS && at <= now.getTime())
      .sort((a, b) => a - b)
    // With n in the window and room for `limit − 1`, the (n − limit + 1)-th oldest must leave.
    const leaving = inWindow[Math.max(0, inWindow.length - limits.hourly)] ?? now.getTime()
    const wait = Math.max(1, Math.ceil((leaving + HOUR_MS - now.getTime()) / 1000))
    exceeded.push({ quota: 'hourly', limit: limits.hourly, used: usage.hourly, wait })
  }
  if (usage.concurrent >= limits.concurrent) {
    exceeded.push({
      quota: 'concurrent',
      limit: limits.concurrent,
      used: usage.concurrent,
      wait: CONCURRENCY_RETRY_AFTER_SECONDS,
    })
  }
  if (exceeded.length === 0) return undefined
  // Name the quota that keeps the caller waiting longest: coming back earlier is refused anyway.
  const binding = exceeded.reduce((a, b) => (b.wait > a.wait ? b : a))
  return new QuotaExceededError(
    binding.quota,
    binding.limit,
    binding.used,
    binding.wait,
    exceeded.map((e) => e.quota),
  )
}

export function decideQuota(command: QuotaCommand, state: QuotaState): QuotaEvent[] {
  switch (command.type) {
    case 'Admit': {
      const { userId, runId, defaults, now } = command.data
      // A retried submission whose admission is recorded: the slot is its own already.
      if (runId in state.active) return []
      const refusal = checkQuota(state, effectiveLimits(defaults, state.override), now)
      if (refusal) throw refusal
      return [admitted(userId, runId, now, 'submission')]
    }
    case 'AdmitWithoutCounting': {
      const { userId, runId, reason, now } = command.data
      if (runId in state.active) return []
      return [admitted(userId, runId, now, reason)]
    }
    case 'Release': {
      const { userId, runId, reason, now } = command.data
      if (!(runId in state.active)) return []
      return [
        { type: 'QuotaReleased', data: { userId, runId, reason, releasedAt: now.toISOString() } },
      ]
    }
    case 'SetOverride': {
      const { userId, override, by, now } = command.data
      if (JSON.stringify(sorted(override)) === JSON.stringify(sorted(state.override))) return []
      return [
        {
          type: 'QuotaOverrideSet',
          data: { userId, override: sorted(override), by, setAt: now.toISOString() },
        },
      ]
    }
    default: {
      const unknownCommand: never = command
      return unknownCommand
    }
  }
}

function admitted(
  userId: string,
  runId: string,
  now: Date,
  reason: QuotaAdmitted['data']['reason'],
): QuotaAdmitted {
  return { type: 'QuotaAdmitted', data: { userId, runId, admittedAt: now.toISOString(), reason } }
}

function sorted(override: QuotaOverride): QuotaOverride {
  const out: QuotaOverride = {}
  for (const key of ['concurrent', 'hourly', 'daily'] as const) {
    if (override[key] !== undefined) out[key] = override[key]
  }
  return out
}

export const quotaDecider = {
  decide: decideQuota,
  evolve: evolveQuota,
  initialState: initialQuotaState,
  eventTypes: QUOTA_EVENT_TYPES,
} satisfies AggregateDecider<QuotaCommand, QuotaEvent, QuotaState>
