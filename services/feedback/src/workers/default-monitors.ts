import type { ModelTask, ReleaseChangedData } from '@argmax/contracts'
import { REGISTRY_EVENTS } from '@argmax/contracts'
import {
  type ConsumerLogger,
  type DeferredConsumer,
  deterministicUuid,
  handleCommand,
  startConsumer,
  whenStreamExists,
} from '@argmax/events'
import type { Logger } from '@argmax/telemetry'
import type { NatsConnection } from 'nats'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { defaultRules, monitorDecider } from '../domain/index.ts'
import { subjects } from '../streams.ts'

export const DEFAULT_MONITORS_DURABLE = 'feedback-default-monitors'

export function defaultMonitorId(model: string, key: string): string {
  return deterministicUuid(`feedback.default-monitor:${model}:${key}`)
}

export class ModelNotProjectedYet extends Error {}

/**
 * Every model gets its default monitors when it is first released (see `defaultRules`): their
 * thresholds are relative to the test metrics of whichever version is stable when they are
 * evaluated. Ids derive from the model, so a redelivered release, or a second release, creates
 * nothing new; an owner may change or delete them like any monitor.
 */
export function startDefaultMonitors(
  deps: Pick<FeedbackDeps, 'store' | 'names' | 'db' | 'now'>,
  options: {
    nc: NatsConnection
    log?: ConsumerLogger
    parkingReplicas?: number
    logger?: Pick<Logger, 'info' | 'warn'>
  },
): DeferredConsumer {
  return whenStreamExists(
    options.nc,
    deps.names.registry.stream,
    () =>
      startConsumer({
        nc: options.nc,
        stream: deps.names.registry.stream,
        durable: DEFAULT_MONITORS_DURABLE,
        filterSubject: `${deps.names.registry.root}.release.>`,
        retryDelaysMs: [1_000, 2_000, 5_000, 10_000],
        maxDeliver: 20,
        parkingReplicas: options.parkingReplicas ?? 1,
        ...(options.log ? { log: options.log } : {}),
        async handler(event) {
          if (event.type !== REGISTRY_EVENTS.releaseChanged) return
          const change = event.data as ReleaseChangedData
          if (!change.release) return
          const model = await deps.db
            .selectFrom('models')
            .select(['owner_id', 'task', 'deleted_at'])
            .where('name', '=', change.model)
            .executeTakeFirst()
          const version = await deps.db
            .selectFrom('model_versions')
            .select('task')
            .where('model', '=', change.model)
            .where('version', '=', change.release.stable)
            .executeTakeFirst()
          // The registry projection runs beside this consumer: retried until it caught up.
          if (!model || !version)
            throw new ModelNotProjectedYet(`model ${change.model} is not projected yet`)
          if (model.deleted_at !== null) return
          for (const { key, name, rule } of defaultRules(
            (model.task ?? version.task) as ModelTask,
          )) {
            const monitorId = defaultMonitorId(change.model, key)
            await handleCommand(
              deps.store,
              monitorDecider,
              subjects.monitor(deps.names, monitorId),
              {
                type: 'CreateMonitor',
                data: {
                  monitorId,
                  model: change.model,
                  ownerId: model.owner_id,
                  name,
                  rule,
                  webhookUrl: null,
                  retrain: true,
                  isDefault: true,
                  now: deps.now(),
                },
              },
              {
                actor: 'system:feedback-monitors',
                causationId: event.id,
                correlationId: event.correlationId,
              },
            )
          }
        },
      }),
    options.logger ? { logger: options.logger } : {},
  )
}
