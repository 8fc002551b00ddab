import type { NatsConnection } from 'nats'
import type { TrainingDeps } from '../application/dependencies.ts'
import {
  newSchedulerMemory,
  scheduleRound,
  type RoundReport,
} from '../application/schedule-round.ts'
import { leaseBucket } from '../streams.ts'
import { startLease, type Lease } from './lease.ts'

export interface RunningScheduler {
  /** One round now, if this process holds the lease (tests and the wake-up path). */
  runOnce(): Promise<RoundReport | undefined>
  isLeader(): boolean
  stop(): Promise<void>
}

/**
 * The scheduler worker: a round (see schedule-round.ts) every `intervalMs`, at once when a use
 * case rings the wake-up (a run submitted, cancelled, retried) or a job's state changes — but
 * only in the process holding the scheduler lease. Rounds never overlap.
 */
export async function startScheduler(
  deps: TrainingDeps,
  options: {
    nc: NatsConnection
    holder: string
    intervalMs: number
    leaseMs: number
    replicas: number
    /** Also waits for the read model to hold every run event so far before a round. */
    catchUp: () => Promise<void>
  },
): Promise<RunningScheduler> {
  const memory = newSchedulerMemory()
  let current: Promise<RoundReport | undefined> | undefined
  let again = false
  let stopped = false

  const lease: Lease = await startLease({
    nc: options.nc,
    bucket: leaseBucket(deps.names),
    key: 'scheduler',
    holder: options.holder,
    ttlMs: options.leaseMs,
    replicas: options.replicas,
    onChange: (held) => {
      deps.logger.info(
        { holder: options.holder, held },
        held ? 'scheduler lease taken' : 'scheduler lease lost',
      )
      if (held) trigger()
    },
    log: deps.logger,
  })

  async function round(): Promise<RoundReport | undefined> {
    if (stopped || !lease.held()) return undefined
    await options.catchUp()
    const report = await scheduleRound(deps, memory)
    if (
      report.started.length +
        report.succeeded.length +
        report.failed.length +
        report.killed.length >
      0
    ) {
      deps.logger.info({ ...report }, 'scheduler round')
    }
    return report
  }

  function runOnce(): Promise<RoundReport | undefined> {
    if (current) {
      again = true
      return current
    }
    current = round()
      .catch((error: unknown) => {
        deps.logger.warn(
          { err: String(error) },
          'scheduler round failed; retrying at the next tick',
        )
        return undefined
      })
      .finally(() => {
        current = undefined
        if (again && !stopped) {
          again = false
          void runOnce()
        }
      })
    return current
  }

  function trigger(): void {
    if (!stopped) setImmediate(() => void runOnce())
  }

  deps.wakeup.onWake(trigger)
  const watcher = deps.runner.watch(() => trigger())
  const timer = setInterval(() => void runOnce(), options.intervalMs)
  timer.unref()
  trigger()

  return {
    runOnce,
    isLeader: () => lease.held(),
    async stop() {
      stopped = true
      clearInterval(timer)
      await watcher.stop()
      await current
      await lease.stop()
      await deps.runner.stop?.()
    },
  }
}
