import { IllegalStateError, NotFoundError } from '@argmax/errors'
import { isRepeatedCreate, type AggregateDecider } from '@argmax/events'
import { breaches, type MonitorRule } from './monitor-rule.ts'
import {
  MONITOR_EVENT_TYPES,
  type MonitorCreated,
  type MonitorEvent,
  type MonitorObservation,
  type MonitorState,
} from './monitor.events.ts'

export type MonitorAggregate =
  | { status: 'absent' }
  | (Omit<MonitorCreated['data'], 'createdAt'> & {
      status: 'active' | 'deleted'
      state: MonitorState
      stateSince: string
      pendingSince: string | null
      createdAt: string
      updatedAt: string
    })

export const initialMonitorState: MonitorAggregate = { status: 'absent' }

export type MonitorCommand =
  | {
      type: 'CreateMonitor'
      data: Omit<MonitorCreated['data'], 'createdAt'> & { now: Date }
    }
  | {
      type: 'UpdateMonitor'
      data: {
        monitorId: string
        name?: string
        rule?: MonitorRule
        webhookUrl?: string | null
        retrain?: boolean
        now: Date
      }
    }
  | { type: 'DeleteMonitor'; data: { monitorId: string; now: Date } }
  | {
      /** One evaluation: null when there was not enough data for a verdict. */
      type: 'Evaluate'
      data: { monitorId: string; observation: MonitorObservation | null; now: Date }
    }

export function evolveMonitor(state: MonitorAggregate, event: MonitorEvent): MonitorAggregate {
  switch (event.type) {
    case 'MonitorCreated': {
      const d = event.data
      return {
        ...d,
        status: 'active',
        state: 'OK',
        stateSince: d.createdAt,
        pendingSince: null,
        updatedAt: d.createdAt,
      }
    }
    case 'MonitorUpdated': {
      if (state.status === 'absent') return state
      const { monitorId: _id, updatedAt, ...changes } = event.data
      return { ...state, ...changes, updatedAt }
    }
    case 'MonitorDeleted':
      return state.status === 'absent'
        ? state
        : { ...state, status: 'deleted', updatedAt: event.data.deletedAt }
    case 'MonitorStateChanged':
      return state.status === 'absent'
        ? state
        : {
            ...state,
            state: event.data.to,
            stateSince: event.data.at,
            pendingSince: event.data.pendingSince,
          }
    default: {
      const unknown: never = event
      return unknown
    }
  }
}

export function decideMonitor(command: MonitorCommand, state: MonitorAggregate): MonitorEvent[] {
  switch (command.type) {
    case 'CreateMonitor': {
      const { now, ...data } = command.data
      if (state.status !== 'absent') {
        if (isRepeatedCreate(state.requestHash, data.requestHash)) return []
        // The platform's default monitors are created once per model, by derived ids.
        if (data.isDefault && state.isDefault) return []
        throw new IllegalStateError(`monitor ${data.monitorId} already exists`)
      }
      return [{ type: 'MonitorCreated', data: { ...data, createdAt: now.toISOString() } }]
    }
    case 'UpdateMonitor': {
      const { now, monitorId, ...changes } = command.data
      const monitor = requireActive(state, monitorId)
      const changed = Object.fromEntries(
        Object.entries(changes).filter(
          ([key, value]) =>
            value !== undefined &&
            JSON.stringify(value) !== JSON.stringify(monitor[key as keyof typeof monitor]),
        ),
      )
      if (Object.keys(changed).length === 0) return []
      return [
        { type: 'MonitorUpdated', data: { monitorId, ...changed, updatedAt: now.toISOString() } },
      ]
    }
    case 'DeleteMonitor': {
      const { monitorId, now } = command.data
      if (state.status === 'absent') throw new NotFoundError('monitor', monitorId)
      if (state.status === 'deleted') return []
      return [{ type: 'MonitorDeleted', data: { monitorId, deletedAt: now.toISOString() } }]
    }
    case 'Evaluate': {
      const { observation, now } = command.data
      if (state.status !== 'active') return []
      // Not enough labels (or predictions) for a verdict: the state stays as it is.
      if (observation === null || observation.value === null || observation.threshold === null) {
        return []
      }
      const breaching = breaches(observation.value, state.rule.comparison, observation.threshold)
      const at = now.toISOString()
      const move = (to: MonitorState, pendingSince: string | null, reason: string) => [
        {
          type: 'MonitorStateChanged' as const,
          data: {
            monitorId: state.monitorId,
            model: state.model,
            from: state.state,
            to,
            at,
            rule: state.rule,
            observation,
            pendingSince,
            reason,
          },
        },
      ]
      const condition = `${state.rule.metric} ${observation.value} ${state.rule.comparison} ${observation.threshold}`
      switch (state.state) {
        case 'OK':
        case 'RESOLVED':
          if (!breaching) return []
          return state.rule.forSeconds === 0
            ? move('FIRING', at, `${condition}`)
            : move('PENDING', at, `${condition}; firing if it holds ${state.rule.forSeconds} s`)
        case 'PENDING': {
          if (!breaching) {
            return move(
              'OK',
              null,
              `${state.rule.metric} ${observation.value} is back within ${observation.threshold}`,
            )
          }
          const since = Date.parse(state.pendingSince ?? state.stateSince)
          if (now.getTime() - since < state.rule.forSeconds * 1000) return []
          return move(
            'FIRING',
            state.pendingSince ?? state.stateSince,
            `${condition} for ${state.rule.forSeconds} s`,
          )
        }
        case 'FIRING':
          if (breaching) return []
          return move(
            'RESOLVED',
            null,
            `${state.rule.metric} ${observation.value} is back within ${observation.threshold}`,
          )
        default: {
          const unknown: never = state.state
          return unknown
        }
      }
    }
    default: {
      const unknown: never = command
      return unknown
    }
  }
}

function requireActive(state: MonitorAggregate, monitorId: string) {
  if (state.status !== 'active') throw new NotFoundError('monitor', monitorId)
  return state
}

export const monitorDecider = {
  decide: decideMonitor,
  evolve: evolveMonitor,
  initialState: initialMonitorState,
  eventTypes: MONITOR_EVENT_TYPES,
} satisfies AggregateDecider<MonitorCommand, MonitorEvent, MonitorAggregate>
