import type { FeedbackClient } from '@argmax/feedback-service/client'
import type { RolloutDetails } from '@argmax/registry-service/client'
import type { PipelineDetails } from '@argmax/training-service/client'
import { pipelineTimelineText } from '../pipelines/render.ts'
import { rolloutTimelineText } from '../rollouts/render.ts'
import type { DemoApis } from './apis.ts'
import { formatMetric } from './format.ts'
import { MODEL } from './world.ts'

export interface TimelineEntry {
  at: string
  source: string
  text: string
  type: string
  data: Record<string, unknown>
}

/**
 * Watches the demo as it runs: each `watch()` prints what happened since the last one (the
 * monitor's state changes, the pipeline and rollout events of the demo's runs) and records the
 * monitor's transitions for the timeline.
 */
export function timelineWatcher(
  apis: DemoApis,
  monitorId: string,
  since: Date,
  log: (line: string) => void,
) {
  const seen = new Set<string>()
  const monitorTransitions: TimelineEntry[] = []
  return {
    monitorTransitions,
    async watch(): Promise<void> {
      await watchMonitor(apis.feedback, monitorId, monitorTransitions, log)
      await watchTimelines(apis, seen, since, log)
    },
  }
}

/** Records and prints the monitor's state changes (OK → PENDING → FIRING) as they are seen. */
async function watchMonitor(
  feedback: FeedbackClient,
  id: string,
  transitions: TimelineEntry[],
  log: (line: string) => void,
): Promise<void> {
  const monitor = await feedback.getMonitor({ params: { id } })
  const last = transitions.at(-1)
  if (last?.data['state'] === monitor.state || (!last && monitor.state === 'OK')) return
  const t = (monitor.lastTransition ?? {}) as Record<string, unknown>
  const observation = (t['observation'] ?? {}) as Record<string, unknown>
  const entry: TimelineEntry = {
    at: monitor.stateSince,
    source: `monitor`,
    type: 'MonitorStateChanged',
    data: { state: monitor.state, ...t },
    text:
      `${String(t['from'] ?? '')} → ${monitor.state}` +
      (typeof observation['value'] === 'number'
        ? `: MAE ${formatMetric(observation['value'] as number)} vs threshold ${formatMetric(observation['threshold'] as number)} over ${String(observation['samples'])} labels of version ${String(observation['version'])}`
        : ''),
  }
  transitions.push(entry)
  log(entryLine(entry))
}

/** Prints each new pipeline and rollout event of the demo's runs as it is recorded. */
async function watchTimelines(
  apis: DemoApis,
  seen: Set<string>,
  since: Date,
  log: (line: string) => void,
): Promise<void> {
  for (const entry of await currentEntries(apis, since)) {
    const key = `${entry.source}:${entry.type}:${entry.at}:${JSON.stringify(entry.data).length}`
    if (seen.has(key)) continue
    seen.add(key)
    log(entryLine(entry))
  }
}

function entryLine(entry: TimelineEntry): string {
  return `${entry.source.padEnd(14)} ${entry.text}`
}

async function currentEntries(apis: DemoApis, since: Date): Promise<TimelineEntry[]> {
  const details = await apis.training.getPipeline({
    params: { model: MODEL },
    query: { all: true },
  })
  const entries = pipelineEntries(details, since)
  const rolloutIds = new Set(
    entries
      .filter((e) => e.type === 'PipelineHandedOver' && typeof e.data['rolloutId'] === 'string')
      .map((e) => e.data['rolloutId'] as string),
  )
  for (const id of rolloutIds) {
    entries.push(...rolloutEntries(await apis.registry.getRollout({ params: { id } })))
  }
  return entries.sort(byTime)
}

function pipelineEntries(details: PipelineDetails, since: Date): TimelineEntry[] {
  return details.timeline
    .filter((e) => Date.parse(e.at) >= since.getTime() && e.data['pipelineRunId'] !== undefined)
    .map((e) => ({
      at: e.at,
      source: `pipeline ${String(e.data['pipelineRunId'] ?? '')}`,
      type: e.type,
      data: e.data,
      text: pipelineTimelineText(e.type, e.data),
    }))
}

function rolloutEntries(details: RolloutDetails): TimelineEntry[] {
  return details.timeline.map((e) => ({
    at: e.at,
    source: `rollout ${details.rollout.rolloutId}`,
    type: e.type,
    data: e.data,
    text: rolloutTimelineText(e.type, e.data),
  }))
}

/** The whole timeline: the monitor's transitions, the retrain requests, each run and rollout. */
export async function collectTimeline(
  apis: DemoApis,
  monitorTransitions: TimelineEntry[],
  since: Date,
): Promise<TimelineEntry[]> {
  const entries = await currentEntries(apis, since)
  const retrains = await apis.feedback.listRetrainRequests({ query: { model: MODEL } })
  for (const r of retrains.items) {
    if (Date.parse(r.requestedAt) < since.getTime()) continue
    entries.push({
      at: r.requestedAt,
      source: 'feedback',
      type: 'RetrainRequested',
      data: r as unknown as Record<string, unknown>,
      text: `RetrainRequested (${r.trigger}${r.monitorId ? ` ${r.monitorId}` : ''}): ${r.reason}`,
    })
  }
  entries.push(...monitorTransitions)
  return entries.sort(byTime)
}

function byTime(a: TimelineEntry, b: TimelineEntry): number {
  return a.at.localeCompare(b.at)
}
