import type { RunDetailView, TrainingClient } from '@argmax/training-service/client'
import { progressLine } from './render.ts'

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'READY',
  'FAILED',
  'CANCELLED',
  'DEAD_LETTERED',
])

export interface FollowOptions {
  /** Where the progress line goes (stderr, so stdout keeps the answer, e.g. with --json). */
  write: (text: string) => void
  /** On a terminal the line is redrawn in place; otherwise a new line when it changes. */
  tty: boolean
  now?: () => Date
  sleep?: (ms: number) => Promise<void>
  intervalMs?: number
}

/**
 * Polls a run until it ends (READY, FAILED, CANCELLED or DEAD_LETTERED), drawing its progress
 * line, and answers the run as it ended. A dead-lettered run is final for the owner: only an
 * admin's retry moves it again.
 */
export async function followRun(
  client: TrainingClient,
  runId: string,
  options: FollowOptions,
): Promise<RunDetailView> {
  const now = options.now ?? (() => new Date())
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)))
  let last = ''
  for (;;) {
    const run = await client.getRun({ params: { runId }, query: {} })
    const line = progressLine(run, now())
    if (options.tty) options.write(`\r\x1b[2K${line}`)
    else if (line.replace(/ · [0-9hms]+$/, '') !== last.replace(/ · [0-9hms]+$/, '')) {
      options.write(`${line}\n`)
    }
    last = line
    if (FINAL_STATUSES.has(run.status)) {
      if (options.tty) options.write('\n')
      return run
    }
    await sleep(options.intervalMs ?? 1000)
  }
}
