import type { RunDetailView, RunView } from '@argmax/training-service/client'
import { table } from '../datasets/render.ts'

/** Human output for terminals; `--json` prints the API's answer instead. */
export function renderRuns(runs: RunView[]): string {
  return table(
    runs.map((r) => ({
      ...r,
      trainer: r.trainer.name,
      dataset: r.dataset.versionId,
      attempt: `${r.attempt}/${r.maxAttempts}`,
      queued: r.queuedAt,
    })),
    [
      'id',
      'model',
      'status',
      'trainer',
      'target',
      'dataset',
      'attempt',
      'priority',
      'ownerId',
      'queued',
    ],
  )
}

/** `1h02m03s`, `4m05s`, `12s`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const pad = (n: number) => String(n).padStart(2, '0')
  if (h > 0) return `${h}h${pad(m)}m${pad(s)}s`
  if (m > 0) return `${m}m${pad(s)}s`
  return `${s}s`
}

const number = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : Number(value.toPrecision(4)).toString()

/**
 * The live line of `--follow`: status, attempt, iteration, the validation metric the trainer
 * reported and the time since the run was queued.
 */
export function progressLine(run: RunDetailView, now: Date): string {
  const elapsed = formatElapsed(now.getTime() - Date.parse(run.queuedAt))
  const parts: string[] = [run.status]
  if (run.attempt > 0) parts.push(`attempt ${run.attempt}/${run.maxAttempts}`)
  const progress = run.progress
  if (progress && progress.attempt === run.attempt) {
    parts.push(`iteration ${progress.iteration}/${progress.totalIterations}`)
    // The validation metric tells more than the training one; else whatever came first.
    const reported = Object.entries(progress.metrics).filter(([, value]) => value !== null)
    const metric = reported.find(([name]) => name.startsWith('validation')) ?? reported[0]
    if (metric) parts.push(`${metric[0]} ${number(metric[1])}`)
  }
  parts.push(elapsed)
  return parts.join(' · ')
}

/** Test metrics next to the trivial baseline the trainer measured on the same split. */
export function renderMetrics(metrics: Record<string, number>): string {
  const names = Object.keys(metrics).filter(
    (name) => !name.startsWith('baseline_') && `baseline_${name}` in metrics,
  )
  if (names.length === 0) return ''
  return table(
    names.map((name) => ({
      metric: name,
      model: metrics[name],
      baseline: metrics[`baseline_${name}`],
    })),
    ['metric', 'model', 'baseline'],
  )
}

export function renderRun(run: RunDetailView): string {
  const trainer = [run.trainer.name, run.trainer.image, ...(run.trainer.command ?? [])]
    .filter(Boolean)
    .join(' ')
  const lines = [
    `id         ${run.id}`,
    `model      ${run.model}`,
    `status     ${run.status}`,
    `owner      ${run.ownerId}`,
    `task       ${run.task}`,
    `trainer    ${trainer}`,
    `dataset    ${run.dataset.datasetId} version ${run.dataset.versionId}`,
    `target     ${run.target}`,
    `features   ${run.features.join(', ')}`,
    `params     ${JSON.stringify(run.params)}`,
    `priority   ${run.priority}${run.queuePriority !== run.priority ? ` (queued as ${run.queuePriority})` : ''}`,
    `attempts   ${run.attempt}/${run.maxAttempts}`,
    `queued     ${run.queuedAt}`,
    `started    ${run.startedAt ?? '-'}`,
    `finished   ${run.finishedAt ?? '-'}`,
  ]
  if (run.progress) lines.push(`progress   ${progressLine(run, new Date(run.progress.at))}`)
  if (run.failure) {
    lines.push(
      `failure    ${run.failure.reason} (attempt ${run.failure.attempt}): ${run.failure.message}`,
    )
    if (run.failure.logTail) lines.push('', 'log tail:', run.failure.logTail.trimEnd())
  }
  if (run.attempts.length > 0) {
    lines.push(
      '',
      table(
        run.attempts.map((a) => ({ ...a, ended: a.endedAt, started: a.startedAt })),
        ['attempt', 'runner', 'priority', 'outcome', 'reason', 'started', 'ended'],
      ),
    )
  }
  if (run.metrics) {
    const metrics = renderMetrics(run.metrics)
    if (metrics) lines.push('', metrics)
  }
  return lines.join('\n')
}
