import { handleCommand, loadAggregate } from '@argmax/events'
import { putStoredObject } from '@argmax/storage'
import { runDecider } from '../domain/index.ts'
import {
  findArchivable,
  findRun,
  listAttempts,
  metricsHistory,
} from '../projections/runs.queries.ts'
import { runSubject } from '../streams.ts'
import type { TrainingDeps } from './dependencies.ts'
import { archiveKey } from './object-keys.ts'

export const ARCHIVE_ACTOR = 'system:archive'

export interface ArchiveReport {
  archived: string[]
  failures: Array<{ runId: string; error: string }>
}

/**
 * Finished runs (READY, FAILED, CANCELLED) older than the retention (180 days) leave the read
 * model: the run, its attempts and its metrics history are written to S3
 * (`archive/runs/<runId>.json`), then `TrainingRunArchived` names that object and the
 * projection drops the rows. The events stay: a rebuild replays the archive too. Candidates
 * come from the projection, each confirmed on the run's events; one failure stops no other.
 */
export async function archiveFinishedRuns(
  deps: Pick<TrainingDeps, 'store' | 'names' | 'db' | 's3' | 'bucket' | 'now' | 'settings'>,
  options: { batch?: number } = {},
): Promise<ArchiveReport> {
  const now = deps.now()
  const retentionMs = deps.settings.archiveAfterMs
  const report: ArchiveReport = { archived: [], failures: [] }
  const candidates = await findArchivable(
    deps.db,
    new Date(now.getTime() - retentionMs),
    options.batch ?? 100,
  )
  for (const runId of candidates) {
    try {
      const subject = runSubject(deps.names, runId)
      const { state } = await loadAggregate(deps.store, runDecider, subject)
      if (state.status === 'absent' || state.archived || state.finishedAt === null) continue
      if (Date.parse(state.finishedAt) + retentionMs > now.getTime()) continue
      const [run, attempts, metrics] = await Promise.all([
        findRun(deps.db, runId),
        listAttempts(deps.db, runId),
        metricsHistory(deps.db, runId, { limit: 1_000_000 }),
      ])
      const body = Buffer.from(
        JSON.stringify({ run, attempts, metrics: metrics.items, archivedAt: now.toISOString() }),
      )
      const archive = await putStoredObject(deps.s3, {
        bucket: deps.bucket,
        key: archiveKey(runId),
        body,
        contentType: 'application/json',
      })
      await handleCommand(
        deps.store,
        runDecider,
        subject,
        { type: 'ArchiveRun', data: { runId, archive, retentionMs, now } },
        { actor: ARCHIVE_ACTOR },
      )
      report.archived.push(runId)
    } catch (error) {
      report.failures.push({ runId, error: String(error) })
    }
  }
  return report
}
