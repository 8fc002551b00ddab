import { createHash } from 'node:crypto'
import { requireRole, type Principal } from '@argmax/auth'
import type { Static } from 'typebox'
import type { AlertmanagerBody } from '../api/contract.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { requestRetrain } from './request-retrain.ts'

/**
 * Alertmanager's webhook: every firing alert that names a model (`model_name` label) asks for a
 * retrain of it. The cause is the alert's identity and start (`fingerprint`, `startsAt`), so
 * Alertmanager's repeated notifications of one firing make one request; resolved alerts are
 * acknowledged and change nothing. Only admins (the credential Alertmanager is configured with)
 * may call it.
 */
export async function receiveAlerts(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'now' | 'db'>,
  principal: Principal,
  payload: Static<typeof AlertmanagerBody>,
): Promise<{ retrainRequests: number; ignored: number }> {
  requireRole(principal, 'admin')
  let retrainRequests = 0
  let ignored = 0
  for (const alert of payload.alerts) {
    const model = alert.labels.model_name
    if (alert.status !== 'firing' || !model) {
      ignored++
      continue
    }
    const known = await deps.db
      .selectFrom('models')
      .select('name')
      .where('name', '=', model)
      .where('deleted_at', 'is', null)
      .executeTakeFirst()
    if (!known) {
      ignored++
      continue
    }
    const identity =
      alert.fingerprint ??
      createHash('sha256')
        .update(JSON.stringify(Object.entries(alert.labels).sort()))
        .digest('hex')
        .slice(0, 16)
    const version = Number(alert.labels.version)
    const outcome = await requestRetrain(
      deps,
      {
        model,
        ...(Number.isInteger(version) && version > 0 ? { version } : {}),
        trigger: 'alertmanager',
        reason:
          alert.annotations?.summary ??
          `${alert.labels.alertname ?? 'alert'} is firing for ${model}`,
        evidence: {
          alertname: alert.labels.alertname ?? null,
          labels: alert.labels,
          annotations: alert.annotations ?? {},
          startsAt: alert.startsAt,
          generatorURL: alert.generatorURL ?? null,
          receiver: payload.receiver ?? null,
          groupKey: payload.groupKey ?? null,
        },
        cause: `alertmanager:${identity}:${alert.startsAt}`,
      },
      { actor: principal.subject },
    )
    if (outcome.written) retrainRequests++
    else ignored++
  }
  return { retrainRequests, ignored }
}
