import { createHmac } from 'node:crypto'
import {
  loadAggregate,
  startConsumer,
  type ConsumerLogger,
  type RecordedEvent,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { webhookSigningSecret } from '../application/monitors.ts'
import { requestRetrain } from '../application/request-retrain.ts'
import { monitorDecider, type MonitorStateChanged } from '../domain/index.ts'
import { subjects } from '../streams.ts'

export const WEBHOOK_DURABLE = 'feedback-monitor-webhooks'
export const RETRAIN_DURABLE = 'feedback-monitor-retrains'
/** After the n-th failed delivery of a notification: 1 s, 5 s, 30 s, 2 min, 10 min, then 30 min. */
export const WEBHOOK_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000]

type Deps = Pick<FeedbackDeps, 'store' | 'names' | 'now' | 'webhookSecret'>

/**
 * The headers of a signed delivery: `X-Argmax-Signature: v1=<hex HMAC-SHA256 of
 * "<timestamp>.<body>">` with the monitor's signing secret, so a receiver can check the body
 * came from the platform and is recent (`X-Argmax-Timestamp`, seconds since the epoch).
 * `X-Argmax-Event-Id` is the state change's event id: a receiver that saw it already can drop
 * a redelivery.
 */
export function signDelivery(secret: string, body: string, timestamp: number, eventId: string) {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return {
    'content-type': 'application/json',
    'x-argmax-event-id': eventId,
    'x-argmax-timestamp': String(timestamp),
    'x-argmax-signature': `v1=${signature}`,
  }
}

export class WebhookRefusedError extends Error {}

/**
 * Delivers every monitor state change to the monitor's webhook, once per transition: the
 * platform's durable consumer acknowledges it only after a 2xx answer, retries any other
 * answer (or none) after WEBHOOK_RETRY_DELAYS_MS, and after `maxDeliver` attempts parks it
 * where operators see it (`argmax parked list`), to be replayed once the receiver works.
 */
export async function startWebhookNotifier(
  deps: Deps,
  options: {
    nc: NatsConnection
    timeoutMs: number
    maxDeliver: number
    retryDelaysMs?: number[]
    fetch?: typeof fetch
    log?: ConsumerLogger
    parkingReplicas?: number
  },
): Promise<RunningConsumer> {
  const send = options.fetch ?? fetch
  return startConsumer({
    nc: options.nc,
    stream: deps.names.feedback.stream,
    durable: WEBHOOK_DURABLE,
    filterSubject: `${deps.names.feedback.root}.monitor.>`,
    ackWaitMs: Math.max(30_000, options.timeoutMs * 2),
    maxDeliver: options.maxDeliver,
    retryDelaysMs: options.retryDelaysMs ?? WEBHOOK_RETRY_DELAYS_MS,
    concurrency: 8,
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handler(event, { signal }) {
      if (event.type !== 'MonitorStateChanged') return
      const change = event.data as MonitorStateChanged['data']
      const { state } = await loadAggregate(
        deps.store,
        monitorDecider,
        subjects.monitor(deps.names, change.monitorId),
      )
      if (state.status !== 'active' || !state.webhookUrl) return
      const body = JSON.stringify(notification(event, change, state.name))
      const headers = signDelivery(
        webhookSigningSecret(deps.webhookSecret, change.monitorId),
        body,
        Math.floor(deps.now().getTime() / 1000),
        event.id,
      )
      const answer = await send(state.webhookUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
      })
      await answer.body?.cancel()
      if (answer.status < 200 || answer.status > 299) {
        throw new WebhookRefusedError(`the webhook answered ${answer.status}`)
      }
    },
    async onParked(event, parked) {
      options.log?.warn(
        { parked: parked.id, eventId: event.id, deliveries: parked.deliveries },
        'a monitor notification could not be delivered and is parked',
      )
    },
  })
}

function notification(event: RecordedEvent, change: MonitorStateChanged['data'], name: string) {
  return {
    eventId: event.id,
    monitorId: change.monitorId,
    monitor: name,
    model: change.model,
    version: change.observation.version,
    from: change.from,
    to: change.to,
    at: change.at,
    metric: change.rule.metric,
    ...(change.rule.feature ? { feature: change.rule.feature } : {}),
    comparison: change.rule.comparison,
    value: change.observation.value,
    threshold: change.observation.threshold,
    samples: change.observation.samples,
    window: change.observation.window,
    forSeconds: change.rule.forSeconds,
    pendingSince: change.pendingSince,
    reason: change.reason,
  }
}

/**
 * A monitor that fires asks for a retrain (`RetrainRequested`, the training pipeline reacts) if
 * it is set to: once per FIRING transition, whatever the redeliveries.
 */
export async function startRetrainTrigger(
  deps: Deps,
  options: { nc: NatsConnection; log?: ConsumerLogger; parkingReplicas?: number },
): Promise<RunningConsumer> {
  return startConsumer({
    nc: options.nc,
    stream: deps.names.feedback.stream,
    durable: RETRAIN_DURABLE,
    filterSubject: `${deps.names.feedback.root}.monitor.>`,
    parkingReplicas: options.parkingReplicas ?? 1,
    ...(options.log ? { log: options.log } : {}),
    async handler(event) {
      if (event.type !== 'MonitorStateChanged') return
      const change = event.data as MonitorStateChanged['data']
      if (change.to !== 'FIRING') return
      const { state } = await loadAggregate(
        deps.store,
        monitorDecider,
        subjects.monitor(deps.names, change.monitorId),
      )
      if (state.status === 'absent' || !state.retrain) return
      await requestRetrain(
        deps,
        {
          model: change.model,
          ...(change.observation.version !== null ? { version: change.observation.version } : {}),
          trigger: 'monitor',
          monitorId: change.monitorId,
          reason: `monitor "${state.name}" is firing: ${change.reason}`,
          evidence: {
            metric: change.rule.metric,
            ...(change.rule.feature ? { feature: change.rule.feature } : {}),
            comparison: change.rule.comparison,
            value: change.observation.value,
            threshold: change.observation.threshold,
            samples: change.observation.samples,
            window: change.observation.window,
            forSeconds: change.rule.forSeconds,
            pendingSince: change.pendingSince,
          },
          cause: event.id,
        },
        {
          actor: 'system:feedback-monitors',
          correlationId: event.correlationId,
          causationId: event.id,
        },
      )
    },
  })
}
