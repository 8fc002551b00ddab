import type { PipelineDetails, PipelineView } from '@argmax/training-service/client'
import { table } from '../datasets/render.ts'

export function renderPipelines(pipelines: PipelineView[]): string {
  return table(
    pipelines.map((p) => ({
      model: p.model,
      ownerId: p.ownerId,
      runs: p.runs,
      current: p.current?.pipelineRunId ?? '',
      status: p.current?.status ?? '',
      step: p.current?.step ?? '',
      updatedAt: p.updatedAt,
    })),
    ['model', 'ownerId', 'runs', 'current', 'status', 'step', 'updatedAt'],
  )
}

/** The pipeline, its current run, then the run's timeline: one line a step with its numbers. */
export function renderPipeline({ pipeline: p, timeline }: PipelineDetails): string {
  const run = p.current
  const lines = [
    `pipeline ${p.model} (owner ${p.ownerId}), ${p.runs} run(s)` +
      (p.pinnedDatasetVersionId ? `, pinned dataset version ${p.pinnedDatasetVersionId}` : ''),
  ]
  if (run) {
    lines.push(
      `run ${run.pipelineRunId}: ${run.status.replace('_', ' ')} (step ${run.step.replace(/_/g, ' ')})` +
        (run.coalesced > 0 ? `, ${run.coalesced} trigger(s) coalesced` : ''),
      `triggered by ${run.trigger.by} (${run.trigger.kind}): ${run.trigger.reason}`,
    )
    if (run.servingVersion !== null && run.holdoutRows !== null) {
      lines.push(`scored with version ${run.servingVersion} on ${run.holdoutRows} holdout rows`)
    }
    for (const c of run.checks) {
      lines.push(
        `  ${c.role} ${c.metric}: candidate ${c.candidate ?? '–'} vs serving ${c.serving ?? '–'} → ` +
          `improvement ${c.improvement ?? '–'} (needs ≥ ${c.required}) ${c.passed ? 'PASS' : 'FAIL'}`,
      )
    }
  }
  lines.push('')
  for (const entry of timeline) {
    lines.push(`${entry.at}  ${timelineText(entry.type, entry.data)}  (${entry.actor})`)
  }
  return lines.join('\n')
}

function timelineText(type: string, d: Record<string, unknown>): string {
  switch (type) {
    case 'PipelineRunStarted':
      return `run ${String(d.pipelineRunId)} started`
    case 'PipelineTriggerCoalesced':
    case 'PipelineTriggerIgnored': {
      const t = d.trigger as { kind: string; by: string }
      return `${type === 'PipelineTriggerIgnored' ? `trigger ignored (${String(d.why)})` : 'trigger coalesced'}: ${t.kind} by ${t.by}`
    }
    case 'PipelineFeedbackRequested':
      return `feedback dataset ${String(d.feedbackDatasetId)} asked for: labelled predictions since version ${String(d.servingVersion)}'s release`
    case 'PipelineDataPrepared': {
      const versions = (d.datasetVersionIds as string[] | undefined) ?? [String(d.datasetVersionId)]
      return (
        `data: ${String(d.source)} dataset version${versions.length > 1 ? 's' : ''} ${versions.join(' + ')}` +
        (typeof d.feedbackRows === 'number' ? ` (${d.feedbackRows} labelled rows)` : '') +
        (typeof d.note === 'string' ? ` — ${d.note}` : '')
      )
    }
    case 'PipelineTrainingStarted':
      return `training run ${String(d.runId)} submitted`
    case 'PipelineTrainingFinished':
      return `training ${String(d.outcome)}: ${JSON.stringify(d.metrics)}`
    case 'PipelineEvaluated': {
      const serving = d.serving as { version: number } | null
      const holdout = d.holdout as { rows: number } | null | undefined
      return serving
        ? `evaluated against version ${serving.version}` +
            (holdout ? ` on the candidate's holdout (${holdout.rows} rows)` : '')
        : 'evaluated: nothing serves yet'
    }
    case 'PipelineGatePassed':
    case 'PipelineGateFailed':
      return `gate ${type === 'PipelineGatePassed' ? 'PASSED' : 'FAILED'}: ${(d.reasons as string[]).join('; ')}`
    case 'PipelineRegistered':
      return `version ${String(d.version)} is ${String(d.alias)}`
    case 'PipelineWarmed':
      return typeof d.skipped === 'string'
        ? `warm-up skipped: ${d.skipped}`
        : `version ${String(d.version)} loaded on the model servers after ${String(d.waitedSeconds)} s`
    case 'PipelineRescoreRequested':
      return `re-scoring dataset version ${String(d.datasetVersionId)} with version ${String(d.version)}: batch prediction ${String(d.batchId)}`
    case 'PipelineRescored':
      return `re-scored: ${String(d.rows)} rows (${String(d.rowsFailed)} refused) in ${(d.result as { uri: string }).uri}`
    case 'PipelineApproved':
      return `approved by ${String(d.by)}: ${String(d.reason)}`
    case 'PipelineHandedOver':
      return d.rolloutId
        ? `handed over: rollout ${String(d.rolloutId)} of version ${String(d.version)}`
        : `handed over: version ${String(d.version)} released (nothing served before)`
    case 'PipelineRunFailed':
      return `failed (${String(d.reason)}): ${String(d.message)}`
    case 'PipelineRunAborted':
      return `aborted by ${String(d.by)}: ${String(d.reason)}`
    default:
      return type.replace(/^Pipeline/, '').toLowerCase()
  }
}

/** One timeline entry in words (argmax demo loop prints them as they happen). */
export { timelineText as pipelineTimelineText }
