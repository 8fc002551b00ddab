import type { Principal } from '@argmax/auth'
import { ValidationError } from '@argmax/errors'
import { isNotFound, openObjectStream } from '@argmax/storage'
import type { TrainingDeps } from './dependencies.ts'
import { readableRun } from './access.ts'
import { artifactKey } from './object-keys.ts'

const MAX_LOG_BYTES = 1024 * 1024

export interface RunLogs {
  runId: string
  attempt: number
  source: 'runner' | 'artifact' | 'failure' | 'none'
  text: string
}

/**
 * An attempt's log, from the best place that has it: the runner while (or shortly after) the
 * job runs, else the `train.log` the trainer uploaded, else the tail its failure recorded.
 */
export async function runLogs(
  deps: Pick<TrainingDeps, 'store' | 'names' | 's3' | 'bucket' | 'runner'>,
  principal: Principal,
  runId: string,
  query: { attempt?: number; lines?: number },
): Promise<RunLogs> {
  const { run } = await readableRun(deps, principal, runId)
  const lines = query.lines ?? 200
  const attempt = query.attempt ?? run.attempt
  if (run.attempt === 0) return { runId, attempt: 0, source: 'none', text: '' }
  if (attempt > run.attempt) {
    throw ValidationError.field('query/attempt', `run ${runId} has had ${run.attempt} attempt(s)`)
  }
  const job = (await deps.runner.list()).find((j) => j.runId === runId && j.attempt === attempt)
  if (job) {
    const text = await deps.runner.logTail(job, lines)
    if (text !== '') return { runId, attempt, source: 'runner', text }
  }
  const uploaded = await tailOfObject(deps, artifactKey(runId, attempt, 'train.log'), lines)
  if (uploaded !== undefined) return { runId, attempt, source: 'artifact', text: uploaded }
  if (run.failure && run.failure.attempt === attempt && run.failure.logTail !== '') {
    return { runId, attempt, source: 'failure', text: run.failure.logTail }
  }
  return { runId, attempt, source: 'none', text: '' }
}

async function tailOfObject(
  deps: Pick<TrainingDeps, 's3' | 'bucket'>,
  key: string,
  lines: number,
): Promise<string | undefined> {
  try {
    const { body } = await openObjectStream(deps.s3, { bucket: deps.bucket, key })
    // Keep only the last MiB while reading: a long training log is not held whole.
    let kept = Buffer.alloc(0)
    for await (const chunk of body) {
      kept = Buffer.concat([kept, chunk as Buffer])
      if (kept.length > 2 * MAX_LOG_BYTES) kept = kept.subarray(kept.length - MAX_LOG_BYTES)
    }
    return kept.toString('utf8').replace(/\n$/, '').split('\n').slice(-lines).join('\n')
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}
