import type {
  FeedbackDatasetPinnedData,
  ModelVersionRegisteredData,
  RetrainRequestedData,
} from '@argmax/contracts'
import {
  loadAggregate,
  startConsumer,
  whenStreamExists,
  type ConsumerLogger,
  type DeferredConsumer,
  type RecordedEvent,
  type RunningConsumer,
} from '@argmax/events'
import { schedulePeriodic, type PeriodicTask } from '@argmax/service'
import type { NatsConnection } from 'nats'
import { feedbackTrigger, recordFeedbackEvent } from '../application/pipelines.ts'
import { fireSchedule } from '../application/pipeline-schedule.ts'
import { advancePipeline, type PipelineDeps } from '../application/pipeline-steps.ts'
import { RUN_RELEASING_EVENTS, runDecider, type RunEvent } from '../domain/index.ts'
import { activePipelineModels, scheduledPipelineModels } from '../projections/pipelines.queries.ts'
import { pipelineSubjects, runSubject, type ForeignStreamNames } from '../streams.ts'

export const PIPELINE_DURABLES = {
  training: 'training-pipelines',
  feedback: 'training-pipelines-feedback',
  registry: 'training-pipelines-registry',
} as const

export interface RunningPipelineWorker {
  consumers: RunningConsumer[]
  sweep: PeriodicTask<{ advanced: number }>
  stop(): Promise<void>
}

/**
 * Drives retrain pipelines from events, through the platform's one durable consumer:
 *
 * - TRAINING (`training.>`): a pipeline's own events move it to its next step (so a step
 *   written by a process that then died is taken up by whoever gets the redelivery), and the
 *   end of a training run (succeeded, failed, cancelled …) moves the pipeline that started it.
 * - FEEDBACK (`feedback.model.>`): `RetrainRequested` triggers, `FeedbackDatasetPinned` sets the
 *   data source of the next runs.
 * - REGISTRY (`registry.model.>`): `ModelVersionRegistered` of a pipeline's training run lets it
 *   register the version as `challenger`.
 *
 * And a sweep every `sweepMs` fires cron schedules that are due and advances every active run (steps that wait on something outside
 * any event this service follows: a feedback version still validating, a registry that was
 * down). Acting twice is harmless: see `advancePipeline`.
 */
export async function startPipelineWorker(
  deps: PipelineDeps,
  options: {
    nc: NatsConnection
    logger?: ConsumerLogger
    parkingReplicas: number
    feedback: ForeignStreamNames
    registry: ForeignStreamNames
    sweepMs: number
  },
): Promise<RunningPipelineWorker> {
  const common = {
    nc: options.nc,
    ackWaitMs: 60_000,
    maxDeliver: 20,
    retryDelaysMs: [1_000, 5_000, 30_000, 120_000],
    parkingReplicas: options.parkingReplicas,
    ...(options.logger ? { log: options.logger } : {}),
  }
  const pipelineRoot = pipelineSubjects(deps.names).slice(0, -1)
  const consumers: RunningConsumer[] = []
  const deferred: DeferredConsumer[] = []
  const stopAll = async () => {
    await Promise.all(deferred.map((d) => d.stop()))
    for (const consumer of consumers.reverse()) await consumer.stop()
  }
  // Another context's stream may not exist yet (its service not started, or not deployed):
  // training starts without it and follows it once it appears.
  const follow = (stream: string, start: () => Promise<RunningConsumer>) => {
    deferred.push(whenStreamExists(options.nc, stream, start, { logger: deps.logger }))
  }
  try {
    consumers.push(
      await startConsumer({
        ...common,
        stream: deps.names.stream,
        durable: PIPELINE_DURABLES.training,
        filterSubject: `${deps.names.root}.>`,
        async handler(recorded) {
          if (recorded.subject.startsWith(pipelineRoot)) {
            await advancePipeline(deps, recorded.subject.slice(pipelineRoot.length))
            return
          }
          const model = await modelOfFinishedRun(deps, recorded)
          if (model) await advancePipeline(deps, model)
        },
      }),
    )
    follow(options.feedback.stream, () =>
      startConsumer({
        ...common,
        stream: options.feedback.stream,
        durable: PIPELINE_DURABLES.feedback,
        filterSubject: `${options.feedback.root}.model.>`,
        async handler(recorded) {
          if (recorded.type === 'RetrainRequested') {
            const data = recorded.data as RetrainRequestedData
            await recordFeedbackEvent(deps, data.model, {
              type: 'Trigger',
              data: {
                trigger: feedbackTrigger(data, recorded.id, data.requestedAt),
                now: deps.now(),
              },
            })
          } else if (recorded.type === 'FeedbackDatasetPinned') {
            const data = recorded.data as FeedbackDatasetPinnedData
            await recordFeedbackEvent(deps, data.model, {
              type: 'RecordPin',
              data: {
                feedbackDatasetId: data.feedbackDatasetId,
                datasetId: data.datasetId,
                datasetVersionId: data.datasetVersionId,
                pinnedBy: data.pinnedBy,
                pinnedAt: data.pinnedAt,
                sourceEventId: recorded.id,
              },
            })
          }
        },
      }),
    )
    follow(options.registry.stream, () =>
      startConsumer({
        ...common,
        stream: options.registry.stream,
        durable: PIPELINE_DURABLES.registry,
        filterSubject: `${options.registry.root}.model.>`,
        async handler(recorded) {
          if (recorded.type !== 'ModelVersionRegistered') return
          const data = recorded.data as ModelVersionRegisteredData
          if (data.source.kind === 'training') await advancePipeline(deps, data.model)
        },
      }),
    )
  } catch (error) {
    await stopAll()
    throw error
  }
  const sweep = schedulePeriodic(
    async () => {
      let advanced = 0
      for (const model of await scheduledPipelineModels(deps.db)) {
        try {
          await fireSchedule(deps, model)
        } catch (error) {
          deps.logger.warn({ model, err: String(error) }, 'pipeline schedule failed; retried later')
        }
      }
      for (const model of await activePipelineModels(deps.db)) {
        try {
          await advancePipeline(deps, model)
          advanced += 1
        } catch (error) {
          deps.logger.warn({ model, err: String(error) }, 'pipeline step failed; retried later')
        }
      }
      return { advanced }
    },
    {
      name: 'pipeline sweep',
      intervalMs: options.sweepMs,
      worthLogging: () => false,
      log: (fields, message) => deps.logger.warn(fields, message),
    },
  )
  return {
    consumers,
    sweep,
    async stop() {
      await sweep.stop()
      await stopAll()
    },
  }
}

/** The model of a training run that just ended, or null for any other event. */
async function modelOfFinishedRun(
  deps: PipelineDeps,
  recorded: RecordedEvent,
): Promise<string | null> {
  if (!RUN_RELEASING_EVENTS.includes(recorded.type as RunEvent['type'])) return null
  const { runId } = recorded.data as { runId: string }
  const { state } = await loadAggregate(deps.store, runDecider, runSubject(deps.names, runId))
  return state.status === 'absent' ? null : state.queued.model
}
