import type { Release } from '@argmax/contracts'
import type { Logger } from '@argmax/telemetry'
import type { FeedbackDeps } from '../application/dependencies.ts'
import { EvaluationRound, evaluateMonitors } from '../application/evaluate-monitors.ts'
import type { WindowName } from '../domain/windows.ts'
import type { GaugeSample, QualityGauges } from './quality-gauges.ts'

export interface MonitorEvaluator {
  /** One round now: gauges refreshed, every monitor evaluated. Rounds never overlap. */
  tick(): Promise<{ changed: number; gauges: number }>
  stop(): Promise<void>
}

/**
 * Every `intervalMs` (on the injected clock's time, driven by a timer), one evaluation round:
 * the gauges of every served version over `gaugeWindow`, then every active monitor through its
 * decider (OK → PENDING → FIRING → RESOLVED as events). Several replicas may run it: a state
 * change is decided on the monitor's events with optimistic concurrency, so a second replica's
 * identical verdict writes nothing.
 */
export function startMonitorEvaluator(
  deps: Pick<
    FeedbackDeps,
    'store' | 'names' | 'db' | 'analytics' | 'storedJson' | 'profiles' | 'now'
  >,
  options: { intervalMs: number; gaugeWindow: WindowName; gauges: QualityGauges; logger?: Logger },
): MonitorEvaluator {
  let running: Promise<{ changed: number; gauges: number }> | undefined
  let stopped = false

  async function round(): Promise<{ changed: number; gauges: number }> {
    const current = new EvaluationRound(deps, deps.now())
    const samples = await gaugeSamples(deps, current, options.gaugeWindow)
    options.gauges.replace(samples)
    const changed = await evaluateMonitors(deps, current)
    return { changed, gauges: samples.length }
  }

  const tick = () => {
    running ??= round().finally(() => {
      running = undefined
    })
    return running
  }

  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          if (stopped || running) return
          tick().catch((error: unknown) =>
            options.logger?.warn({ err: error }, 'monitor evaluation failed; next round retries'),
          )
        }, options.intervalMs)
      : undefined
  timer?.unref()

  return {
    tick,
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}

async function gaugeSamples(
  deps: Pick<FeedbackDeps, 'db'>,
  round: EvaluationRound,
  window: WindowName,
): Promise<GaugeSample[]> {
  const models = await deps.db
    .selectFrom('models')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('release', 'is not', null)
    .execute()
  const samples: GaugeSample[] = []
  for (const model of models) {
    const release = model.release as Release
    const versions = [release.stable, release.canary?.version].filter(
      (v): v is number => v !== undefined,
    )
    for (const version of versions) {
      const quality = await round.qualityOf(model.name, version, window)
      const drift = await round.driftOf(model, version, window)
      samples.push({
        model: model.name,
        version,
        userId: model.owner_id,
        metrics: {
          ...(quality?.metrics ?? {}),
          coverage: quality?.coverage ?? null,
          labelled: quality?.labelled ?? null,
          predictionPsi: drift?.prediction?.psi ?? null,
        },
        featurePsi: drift?.features.map((f) => ({ feature: f.feature, psi: f.psi })) ?? [],
      })
    }
  }
  return samples
}
