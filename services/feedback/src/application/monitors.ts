import { createHmac } from 'node:crypto'
import { assertCanWrite, canAccess, hasRole, type Principal } from '@argmax/auth'
import type { ModelTask } from '@argmax/contracts'
import { NotFoundError, ValidationError } from '@argmax/errors'
import { handleCommand, identifyCreate, loadAggregate } from '@argmax/events'
import type { CreateMonitorInput, MonitorView } from '../api/contract.ts'
import {
  monitorDecider,
  ruleProblem,
  type MonitorAggregate,
  type MonitorRule,
} from '../domain/index.ts'
import type { MonitorRow } from '../projections/tables.ts'
import { subjects } from '../streams.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { visibleModel } from './model-access.ts'

type Deps = Pick<FeedbackDeps, 'store' | 'names' | 'db' | 'now' | 'newId' | 'webhookSecret'>

/**
 * The key a monitor's webhook deliveries are signed with: derived from the service's webhook
 * secret and the monitor's id, so each receiver can only verify (and never forge) its own, and
 * nothing secret is stored in an event.
 */
export function webhookSigningSecret(webhookSecret: string, monitorId: string): string {
  return createHmac('sha256', webhookSecret).update(`monitor:${monitorId}`).digest('hex')
}

export async function createMonitor(
  deps: Deps,
  principal: Principal,
  input: CreateMonitorInput,
  idempotencyKey?: string,
): Promise<{ monitorId: string; position: number }> {
  assertCanWrite(principal)
  const model = await visibleModel(deps, principal, input.model, 'write')
  assertRule(input.rule, model.task as ModelTask | null)
  const { id: monitorId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'feedback.monitor.create',
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    monitorDecider,
    subjects.monitor(deps.names, monitorId),
    {
      type: 'CreateMonitor',
      data: {
        monitorId,
        model: input.model,
        ownerId: model.owner_id,
        name: input.name,
        rule: input.rule,
        webhookUrl: input.webhookUrl ?? null,
        retrain: input.retrain ?? true,
        isDefault: false,
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  return { monitorId, position: outcome.position }
}

export async function updateMonitor(
  deps: Deps,
  principal: Principal,
  monitorId: string,
  changes: { name?: string; rule?: MonitorRule; webhookUrl?: string | null; retrain?: boolean },
): Promise<{ position: number }> {
  assertCanWrite(principal)
  const subject = subjects.monitor(deps.names, monitorId)
  const { state } = await loadAggregate(deps.store, monitorDecider, subject)
  const monitor = accessible(state, principal, monitorId, 'write')
  if (changes.rule) {
    const model = await visibleModel(deps, principal, monitor.model)
    assertRule(changes.rule, model.task as ModelTask | null)
  }
  const outcome = await handleCommand(
    deps.store,
    monitorDecider,
    subject,
    { type: 'UpdateMonitor', data: { monitorId, ...changes, now: deps.now() } },
    {
      actor: principal,
      guard: (current) => void accessible(current, principal, monitorId, 'write'),
    },
  )
  return { position: outcome.position }
}

export async function deleteMonitor(
  deps: Deps,
  principal: Principal,
  monitorId: string,
): Promise<{ position: number }> {
  assertCanWrite(principal)
  const outcome = await handleCommand(
    deps.store,
    monitorDecider,
    subjects.monitor(deps.names, monitorId),
    { type: 'DeleteMonitor', data: { monitorId, now: deps.now() } },
    {
      actor: principal,
      guard: (current) => {
        if (current.status === 'absent' || !canAccess(principal, current.ownerId, 'write')) {
          throw new NotFoundError('monitor', monitorId)
        }
      },
    },
  )
  return { position: outcome.position }
}

function accessible(
  state: MonitorAggregate,
  principal: Principal,
  monitorId: string,
  access: 'read' | 'write',
) {
  if (state.status !== 'active' || !canAccess(principal, state.ownerId, access)) {
    throw new NotFoundError('monitor', monitorId)
  }
  return state
}

function assertRule(rule: MonitorRule, task: ModelTask | null): void {
  const problem = ruleProblem(rule, task)
  if (problem) throw ValidationError.field(`/rule/${problem.field}`, problem.message)
}

/** A monitor as the API shows it; the webhook's signing secret only to its owner and admins. */
export function monitorView(
  deps: Pick<FeedbackDeps, 'webhookSecret'>,
  row: MonitorRow,
  principal: Principal,
): MonitorView {
  const mayWrite = hasRole(principal, 'admin') || principal.subject === row.owner_id
  return {
    id: row.id,
    model: row.model,
    ownerId: row.owner_id,
    name: row.name,
    rule: row.rule as MonitorView['rule'],
    webhook: row.webhook_url
      ? {
          url: row.webhook_url,
          ...(mayWrite ? { secret: webhookSigningSecret(deps.webhookSecret, row.id) } : {}),
        }
      : null,
    retrain: row.retrain,
    isDefault: row.is_default,
    state: row.state as MonitorView['state'],
    stateSince: new Date(row.state_since).toISOString(),
    lastTransition: row.last_transition ?? null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}

export async function findMonitor(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  monitorId: string,
): Promise<MonitorRow> {
  const row = await deps.db
    .selectFrom('monitors')
    .selectAll()
    .where('id', '=', monitorId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
  if (!row || !canAccess(principal, row.owner_id, 'read'))
    throw new NotFoundError('monitor', monitorId)
  return row
}

export async function listMonitors(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  model?: string,
): Promise<MonitorRow[]> {
  let query = deps.db.selectFrom('monitors').selectAll().where('deleted_at', 'is', null)
  if (!hasRole(principal, 'admin') && !hasRole(principal, 'analyst')) {
    query = query.where('owner_id', '=', principal.subject)
  }
  if (model) query = query.where('model', '=', model)
  return query.orderBy('created_at').orderBy('id').execute()
}
