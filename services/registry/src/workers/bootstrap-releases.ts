import type { RegistryDeps } from '../application/dependencies.ts'
import { bootstrapRelease, type BootstrapOutcome } from '../application/bootstrap-release.ts'
import type { BootstrapRelease } from '../config.ts'

export interface BootstrapWorker {
  /** Resolves once every entry is settled (applied, or the model had a release). */
  readonly settled: Promise<void>
  /** One pass over the unsettled entries now. */
  runOnce(): Promise<Record<string, BootstrapOutcome>>
  stop(): Promise<void>
}

type Log = (fields: Record<string, unknown>, message: string) => void

/**
 * Applies `ARGMAX_REGISTRY_BOOTSTRAP_RELEASES` at start-up: each named model that never had a
 * release gets one (see bootstrapRelease). An entry that cannot apply yet — its version is not
 * registered, training has not run — is tried again every `retryMs` until it applies or the
 * model gets a release some other way; from then on the setting is never looked at again.
 */
export function startBootstrapReleases(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>,
  entries: BootstrapRelease[],
  options: { retryMs: number; log?: Log },
): BootstrapWorker {
  const log = options.log ?? (() => undefined)
  const pending = new Map(entries.map((entry) => [entry.model, entry]))
  const waitingReported = new Set<string>()
  let resolveSettled!: () => void
  const settled = new Promise<void>((resolve) => (resolveSettled = resolve))
  let running: Promise<Record<string, BootstrapOutcome>> | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function pass(): Promise<Record<string, BootstrapOutcome>> {
    const outcomes: Record<string, BootstrapOutcome> = {}
    for (const entry of [...pending.values()]) {
      try {
        const outcome = await bootstrapRelease(deps, entry)
        outcomes[entry.model] = outcome
        if (outcome.outcome === 'waiting') {
          if (!waitingReported.has(entry.model)) {
            log({ ...entry, reason: outcome.reason }, 'bootstrap release waits')
            waitingReported.add(entry.model)
          }
          continue
        }
        pending.delete(entry.model)
        if (outcome.outcome === 'applied') log({ ...entry }, 'bootstrap release applied')
      } catch (error) {
        log({ ...entry, err: String(error) }, 'bootstrap release failed; will retry')
      }
    }
    if (pending.size === 0) resolveSettled()
    return outcomes
  }

  const runOnce = () => {
    running ??= pass().finally(() => {
      running = undefined
    })
    return running
  }
  const schedule = () => {
    if (stopped || pending.size === 0) return
    timer = setTimeout(() => void runOnce().finally(schedule), options.retryMs)
    timer.unref()
  }
  if (pending.size === 0) resolveSettled()
  else void runOnce().finally(schedule)

  return {
    settled,
    runOnce,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running?.catch(() => undefined)
    },
  }
}
