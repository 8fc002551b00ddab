/**
 * Bounded `user_id` labels for the prediction metrics: Prometheus keeps a series per label
 * value, so a label per caller would grow without limit. Callers are counted with the
 * Space-Saving sketch (Metwally et al.) in `4 × top` counters; a caller that is among the `top`
 * most frequent of the sketch gets its own label, everyone else is `other`. Labels once handed
 * out stay (a counter series cannot be renamed), but at most `2 × top` are ever handed out, so
 * the series count is bounded even when the heavy callers change over time.
 */
export const OTHER_CALLER = 'other'

export class CallerLabels {
  private readonly counts = new Map<string, number>()
  private readonly labelled = new Set<string>()
  private readonly capacity: number
  private readonly maxLabels: number

  constructor(private readonly top: number) {
    this.capacity = Math.max(1, 4 * top)
    this.maxLabels = 2 * top
  }

  /** Counts one request of `caller` and answers the label it is recorded under. */
  labelFor(caller: string): string {
    if (this.top <= 0) return OTHER_CALLER
    this.count(caller)
    if (this.labelled.has(caller)) return caller
    if (this.labelled.size < this.maxLabels && this.isTop(caller)) {
      this.labelled.add(caller)
      return caller
    }
    return OTHER_CALLER
  }

  private count(caller: string): void {
    const known = this.counts.get(caller)
    if (known !== undefined) {
      this.counts.set(caller, known + 1)
      return
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(caller, 1)
      return
    }
    // Space-Saving: the newcomer takes the smallest counter's place and count, plus one.
    let minCaller = ''
    let minCount = Infinity
    for (const [name, count] of this.counts) {
      if (count < minCount) {
        minCount = count
        minCaller = name
      }
    }
    this.counts.delete(minCaller)
    this.counts.set(caller, minCount + 1)
  }

  private isTop(caller: string): boolean {
    const mine = this.counts.get(caller) ?? 0
    let above = 0
    for (const count of this.counts.values()) {
      if (count > mine && ++above >= this.top) return false
    }
    return true
  }
}
