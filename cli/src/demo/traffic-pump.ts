import { sleep } from './poll.ts'
import {
  emptyStats,
  sendTraffic,
  type Labelling,
  type TrafficClient,
  type TrafficStats,
} from './traffic.ts'
import type { World } from './world.ts'

/** How much traffic the pump sends: `requestsPerSecond` requests of `batch` films each. */
export interface TrafficPace {
  requestsPerSecond: number
  batch: number
}

/** Traffic in the background: every second `requestsPerSecond` requests, labelled. */
export function trafficPump(client: TrafficClient, world: World, pace: TrafficPace) {
  const stats = emptyStats()
  let labelling: Labelling | null = null
  let running: Promise<void> | null = null
  let failure: Error | null = null
  const loop = async () => {
    while (labelling !== null) {
      const tick = Date.now()
      try {
        await sendTraffic(
          client,
          world,
          { requests: pace.requestsPerSecond, batch: pace.batch, labelling },
          stats,
        )
      } catch (error) {
        failure = error as Error
        labelling = null
        return
      }
      await sleep(Math.max(0, 1000 - (Date.now() - tick)))
    }
  }
  const halt = async () => {
    labelling = null
    await running
    running = null
  }
  return {
    stats,
    run(mode: Labelling) {
      labelling = mode
      running ??= loop()
    },
    pause: halt,
    stop: halt,
    async burst(mode: Labelling, requests: number) {
      for (let sent = 0; sent < requests; sent += pace.requestsPerSecond * 4) {
        await sendTraffic(
          client,
          world,
          {
            requests: Math.min(pace.requestsPerSecond * 4, requests - sent),
            batch: pace.batch,
            labelling: mode,
          },
          stats,
        )
      }
    },
    check() {
      if (failure) throw failure
    },
    snapshot(): TrafficStats {
      return { ...stats, byVersion: { ...stats.byVersion } }
    },
  }
}

export type TrafficPump = ReturnType<typeof trafficPump>
