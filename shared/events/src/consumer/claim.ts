/** The delivery's claim lapsed: no progress for a whole ack wait, JetStream redelivers it. */
export class ClaimLapsedError extends Error {
  constructor(ackWaitMs: number) {
    super(`no progress reported for ${ackWaitMs} ms (the ack wait): the message goes back`)
    this.name = 'ClaimLapsedError'
  }
}

/** The consumer is stopping and hands the message back (`stopMode: 'hand-back'`). */
export class ConsumerStoppingError extends Error {
  constructor() {
    super('the consumer is stopping: the message goes back to JetStream')
    this.name = 'ConsumerStoppingError'
  }
}

/** What keeps a delivery claimed: JetStream's in-progress acknowledgement. */
export interface Workable {
  working(): void
}

export interface Claim {
  readonly signal: AbortSignal
  /** The handler made progress since the last heartbeat. */
  progress(): void
  /** Resolves when the claim lapsed (the handler made no progress for a whole ack wait). */
  readonly lapsed: Promise<void>
  isLapsed(): boolean
  /** Aborts the handler because the consumer stops; the claim keeps beating while it winds up. */
  handBack(): void
  release(): void
}

/**
 * Keeps deliveries claimed while — and only while — their handler makes progress. Every third
 * of the ack wait it looks back: progress since the last look sends `working()` for each
 * delivery (JetStream restarts their ack wait); none for a whole ack wait means the handler hung,
 * so the claim lapses: its signal aborts and the caller stops waiting for it. JetStream, having
 * heard nothing either, redelivers the messages — to this process or another one.
 */
export function claimDeliveries(deliveries: readonly Workable[], ackWaitMs: number): Claim {
  const controller = new AbortController()
  let progressed = false
  let lastBeat = performance.now()
  let lapsed = false
  let onLapse: () => void = () => undefined
  const lapsedPromise = new Promise<void>((resolve) => (onLapse = resolve))
  const timer = setInterval(
    () => {
      if (progressed) {
        progressed = false
        lastBeat = performance.now()
        for (const delivery of deliveries) delivery.working()
        return
      }
      if (performance.now() - lastBeat >= ackWaitMs) {
        lapsed = true
        clearInterval(timer)
        if (!controller.signal.aborted) controller.abort(new ClaimLapsedError(ackWaitMs))
        onLapse()
      }
    },
    Math.max(10, Math.floor(ackWaitMs / 3)),
  )
  timer.unref()
  return {
    signal: controller.signal,
    lapsed: lapsedPromise,
    progress: () => void (progressed = true),
    isLapsed: () => lapsed,
    handBack: () => {
      if (!controller.signal.aborted) controller.abort(new ConsumerStoppingError())
    },
    release: () => clearInterval(timer),
  }
}
