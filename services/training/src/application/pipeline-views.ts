import type { PipelineConfigInput, PipelineView } from '../api/pipelines.contract.ts'
import {
  DEFAULT_MIN_FEEDBACK_ROWS,
  nextStep,
  type PipelineConfig,
  type PipelineRecord,
  type PipelineRun,
} from '../domain/index.ts'

/** A request's configuration with every default filled in: what the events record. */
export function pipelineConfigOf(input: PipelineConfigInput): PipelineConfig {
  return {
    enabled: input.enabled ?? true,
    triggers: {
      retrainRequested: input.triggers?.retrainRequested ?? true,
      labelThreshold: input.triggers?.labelThreshold ?? null,
      schedule: input.triggers?.schedule ?? null,
    },
    data: {
      source: input.data.source ?? 'pinned_feedback',
      datasetVersionId: input.data.datasetVersionId,
      minFeedbackRows: input.data.minFeedbackRows ?? DEFAULT_MIN_FEEDBACK_ROWS,
    },
    training: {
      target: input.training.target,
      ...(input.training.features ? { features: input.training.features } : {}),
      trainer: input.training.trainer ?? 'xgboost',
      params: input.training.params ?? {},
      seed: input.training.seed ?? 0,
    },
    evaluation: {
      metric: input.evaluation.metric,
      direction: input.evaluation.direction,
      margin: input.evaluation.margin ?? 0,
      guards: (input.evaluation.guards ?? []).map((g) => ({
        metric: g.metric,
        direction: g.direction,
        tolerance: g.tolerance ?? 0,
      })),
    },
    rescore: input.rescore ?? null,
    requireApproval: input.requireApproval ?? false,
    rollout: {
      ...(input.rollout?.steps ? { steps: input.rollout.steps } : {}),
      ...(input.rollout?.criteria ? { criteria: input.rollout.criteria } : {}),
      ...(input.rollout?.requireApproval !== undefined
        ? { requireApproval: input.rollout.requireApproval }
        : {}),
    },
  }
}

export function pipelineView(state: PipelineRecord): PipelineView {
  return {
    model: state.model,
    ownerId: state.ownerId,
    config: state.config as unknown as Record<string, unknown>,
    runs: state.runs,
    pinnedDatasetVersionId: state.pin?.datasetVersionId ?? null,
    current: state.current ? runView(state.current) : null,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  }
}

function runView(run: PipelineRun): NonNullable<PipelineView['current']> {
  return {
    pipelineRunId: run.pipelineRunId,
    status: run.status,
    step: nextStep(run),
    trigger: {
      kind: run.trigger.kind,
      by: run.trigger.by,
      reason: run.trigger.reason,
      evidence: run.trigger.evidence,
      at: run.trigger.at,
    },
    coalesced: run.coalesced,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    datasetVersionId: run.dataset?.datasetVersionId ?? null,
    datasetVersionIds: run.dataset?.datasetVersionIds ?? [],
    feedbackDatasetId:
      run.dataset?.feedbackDatasetId ?? run.feedbackRequest?.feedbackDatasetId ?? null,
    feedbackRows: run.dataset?.feedbackRows ?? null,
    trainingRunId: run.trainingRunId,
    candidateMetrics: run.training?.outcome === 'succeeded' ? run.training.metrics : null,
    servingVersion: run.evaluation?.serving?.version ?? null,
    holdoutRows: run.evaluation?.holdout?.rows ?? null,
    checks: run.evaluation?.checks ?? [],
    gate: run.gate,
    version: run.version,
    warmedAfterSeconds: run.warmup && !run.warmup.skipped ? run.warmup.waitedSeconds : null,
    rescore: run.rescore
      ? {
          batchId: run.rescore.batchId,
          rows: run.rescore.result?.rows ?? null,
          rowsFailed: run.rescore.result?.rowsFailed ?? null,
          result: run.rescore.result?.object.uri ?? null,
        }
      : null,
    approvedBy: run.approvedBy,
    rolloutId: run.rolloutId,
    failure: run.failure,
  }
}
