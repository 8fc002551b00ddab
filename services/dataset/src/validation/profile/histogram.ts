import type { HistogramBin } from '../validation.types.ts'

/**
 * A one-pass histogram with exact counts, for a column whose range is unknown until the end.
 *
 * - While at most `bufferSize` values have been seen they are simply kept, and the result is
 *   the classic one: `binCount` equal bins from min to max.
 * - Past that, values go into a grid of `binCount` bins whose width is a power of two and
 *   whose edges are multiples of that width (bin `a` is [a·w, (a+1)·w)). When a value falls
 *   outside the window, the window moves down to it or, if the occupied span no longer fits,
 *   the width doubles and pairs of neighbouring bins merge. Because the grid is aligned and
 *   x / 2^k is exact in floating point, floor(floor(x/w)/2) = floor(x/2w): merging loses no
 *   count, every value is in exactly one bin, and the result depends only on the values and
 *   their order (so it is deterministic). The width is at most twice what an equal-width
 *   histogram over [min, max] would use, so at least half of the bins cover data.
 *
 * Memory is `bufferSize + binCount` numbers per column whatever the row count.
 */
export class StreamingHistogram {
  private readonly buffer: Float64Array
  private buffered = 0
  private width = 0
  /** Absolute grid index of `counts[0]`. */
  private origin = 0
  private readonly counts: number[]
  private gridMode = false

  constructor(
    private readonly binCount = 20,
    bufferSize = 2048,
  ) {
    this.buffer = new Float64Array(bufferSize)
    this.counts = new Array<number>(binCount).fill(0)
  }

  add(x: number): void {
    if (!this.gridMode) {
      if (this.buffered < this.buffer.length) {
        this.buffer[this.buffered++] = x
        return
      }
      this.switchToGrid()
    }
    this.addToGrid(x)
  }

  /**
   * Folds in the histogram of another part of the same column. Kept values are added one by
   * one; two grids meet at the wider width: both widths are powers of two on aligned edges,
   * so each narrow bin lies inside exactly one wide bin and no count crosses an edge.
   */
  merge(other: StreamingHistogram): void {
    if (!other.gridMode) {
      for (let i = 0; i < other.buffered; i++) this.add(other.buffer[i]!)
      return
    }
    if (!this.gridMode) {
      const kept = this.buffer.slice(0, this.buffered)
      this.gridMode = true
      this.buffered = 0
      this.width = other.width
      this.origin = other.origin
      for (let i = 0; i < this.binCount; i++) this.counts[i] = other.counts[i]!
      for (const x of kept) this.addToGrid(x)
      return
    }
    if (other.width > this.width) this.rebin(other.width)
    const factor = this.width / other.width
    for (let i = 0; i < other.binCount; i++) {
      const count = other.counts[i]!
      if (count !== 0) this.addAt(Math.floor((other.origin + i) / factor), count)
    }
  }

  bins(): HistogramBin[] {
    return this.gridMode ? this.gridBins() : this.exactBins()
  }

  private switchToGrid(): void {
    let min = Infinity
    let max = -Infinity
    for (let i = 0; i < this.buffered; i++) {
      const v = this.buffer[i]!
      if (v < min) min = v
      if (v > max) max = v
    }
    // Divide before subtracting so that ±1e308 does not overflow to Infinity.
    const perBin = max / this.binCount - min / this.binCount
    const exponent =
      perBin > 0 ? Math.ceil(Math.log2(perBin)) : Math.floor(Math.log2(Math.abs(max) || 1))
    this.width = Math.pow(2, Math.min(1023, Math.max(-1000, exponent)))
    this.origin = Math.floor(min / this.width)
    this.gridMode = true
    for (let i = 0; i < this.buffered; i++) this.addToGrid(this.buffer[i]!)
  }

  private addToGrid(x: number): void {
    const i = Math.floor(x / this.width) - this.origin
    if (i >= 0 && i < this.binCount) {
      this.counts[i]!++
      return
    }
    this.fit(Math.floor(x / this.width))
    this.counts[Math.floor(x / this.width) - this.origin]!++
  }

  /** Adds `count` to the bin of absolute index `index` (at the current width). */
  private addAt(index: number, count: number): void {
    let i = index - this.origin
    if (i < 0 || i >= this.binCount) {
      const before = this.width
      this.fit(index)
      i = Math.floor(index / (this.width / before)) - this.origin
    }
    this.counts[i]! += count
  }

  /** Regroups the grid at `width`, a power-of-two multiple of the current one. */
  private rebin(width: number): void {
    const factor = width / this.width
    const old = this.counts.slice()
    const oldOrigin = this.origin
    this.counts.fill(0)
    this.width = width
    this.origin = Math.floor(oldOrigin / factor)
    for (let i = 0; i < this.binCount; i++) {
      if (old[i] !== 0) this.counts[Math.floor((oldOrigin + i) / factor) - this.origin]! += old[i]!
    }
  }

  /** Moves and/or widens the window until absolute index `target` is inside it. */
  private fit(target: number): void {
    let lo = target
    let hi = target
    for (let i = 0; i < this.binCount; i++) {
      if (this.counts[i] !== 0) {
        lo = Math.min(lo, this.origin + i)
        hi = Math.max(hi, this.origin + i)
      }
    }
    let doublings = 0
    while (hi - lo + 1 > this.binCount) {
      lo = Math.floor(lo / 2)
      hi = Math.floor(hi / 2)
      doublings++
    }
    const factor = Math.pow(2, doublings)
    const old = this.counts.slice()
    const oldOrigin = this.origin
    this.counts.fill(0)
    this.width *= factor
    this.origin = lo
    for (let i = 0; i < this.binCount; i++) {
      if (old[i] !== 0) this.counts[Math.floor((oldOrigin + i) / factor) - lo]! += old[i]!
    }
  }

  private gridBins(): HistogramBin[] {
    let first = -1
    let last = -1
    for (let i = 0; i < this.binCount; i++) {
      if (this.counts[i] !== 0) {
        if (first < 0) first = i
        last = i
      }
    }
    const bins: HistogramBin[] = []
    for (let i = first; i >= 0 && i <= last; i++) {
      const a = this.origin + i
      bins.push({ lower: a * this.width, upper: (a + 1) * this.width, count: this.counts[i]! })
    }
    return bins
  }

  private exactBins(): HistogramBin[] {
    const n = this.buffered
    if (n === 0) return []
    let min = Infinity
    let max = -Infinity
    for (let i = 0; i < n; i++) {
      const v = this.buffer[i]!
      if (v < min) min = v
      if (v > max) max = v
    }
    if (min === max) return [{ lower: min, upper: max, count: n }]
    // Scale first when the span itself overflows (values near ±1.8e308).
    const scale = Number.isFinite(max - min) ? 1 : 1 / this.binCount
    const width = (max * scale - min * scale) / this.binCount
    const counts = new Array<number>(this.binCount).fill(0)
    for (let i = 0; i < n; i++) {
      const offset = this.buffer[i]! * scale - min * scale
      counts[Math.min(this.binCount - 1, Math.floor(offset / width))]!++
    }
    return counts.map((count, k) => ({
      lower: min + (k * width) / scale,
      upper: k === this.binCount - 1 ? max : min + ((k + 1) * width) / scale,
      count,
    }))
  }
}
