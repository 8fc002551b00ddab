import type { TopValue } from '../validation.types.ts'
import { detach } from './strings.ts'

/**
 * Frequent values by the Misra–Gries summary: at most `capacity` counters; an unseen value
 * when all are taken decrements every counter instead of being stored. Each kept count is a
 * lower bound of the true count, off by at most n/(capacity+1), and every value occurring more
 * than n/(capacity+1) times is kept. With fewer distinct values than `capacity` the counts are
 * exact. The decrement step touches all counters, but it can happen at most n/(capacity+1)
 * times, so the cost per value stays O(1) amortised.
 *
 * The counters live in a small open-addressing table keyed by the value's hash, which the
 * caller already computed for the distinct count: a probe of typed arrays plus one string
 * comparison instead of a Map lookup that would hash every fresh string again.
 */
function equalsRange(value: string, text: string, start: number, end: number): boolean {
  if (value.length !== end - start) return false
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) !== text.charCodeAt(start + i)) return false
  }
  return true
}

export class TopValues {
  private readonly mask: number
  private readonly hashes: Uint32Array
  /** 0 marks an empty slot. */
  private readonly counts: Int32Array
  private readonly values: (string | undefined)[]
  private size = 0
  private decrements = 0

  constructor(private readonly capacity = 256) {
    let slots = 1
    while (slots < capacity * 2) slots *= 2
    this.mask = slots - 1
    this.hashes = new Uint32Array(slots)
    this.counts = new Int32Array(slots)
    this.values = new Array<string | undefined>(slots).fill(undefined)
  }

  /** Counts the value `text[start, end)`, whose hash (hashString) is `hash`. */
  add(text: string, start: number, end: number, hash: number): void {
    const { counts, hashes, values, mask } = this
    let i = hash & mask
    while (counts[i] !== 0) {
      if (hashes[i] === hash && equalsRange(values[i]!, text, start, end)) {
        counts[i]!++
        return
      }
      i = (i + 1) & mask
    }
    if (this.size < this.capacity) {
      hashes[i] = hash
      counts[i] = 1
      values[i] = detach(start === 0 && end === text.length ? text : text.slice(start, end))
      this.size++
      return
    }
    this.decrementAll()
  }

  /**
   * The `limit` largest counters, most frequent first, ties by value for determinism. Once
   * values were dropped, a counter of 1 says nothing about frequency (it is whichever value
   * came last), so those are left out: a column of unique ids has no top values.
   */
  top(limit = 10): TopValue[] {
    const floor = this.decrements > 0 ? 2 : 1
    const kept: TopValue[] = []
    for (let i = 0; i <= this.mask; i++) {
      const count = this.counts[i]!
      if (count >= floor) kept.push({ value: this.values[i]!, count })
    }
    return kept
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit)
  }

  /**
   * Folds in the summary of another part of the same column (the merge of Agarwal et al.,
   * "Mergeable summaries", 2012): counters of the same value add up; when more than
   * `capacity` remain, the (capacity+1)-th largest count is taken off every counter and those
   * left at zero or below are dropped. The error bound stays n/(capacity+1) over both parts,
   * and with fewer distinct values than `capacity` the counts stay exact.
   */
  merge(other: TopValues): void {
    const byValue = new Map<string, Counter>()
    for (const counter of [...this.counters(), ...other.counters()]) {
      const seen = byValue.get(counter.value)
      if (seen === undefined) byValue.set(counter.value, counter)
      else seen.count += counter.count
    }
    let merged = [...byValue.values()]
    this.decrements += other.decrements
    if (merged.length > this.capacity) {
      const cut = merged.map((c) => c.count).sort((a, b) => b - a)[this.capacity]!
      merged = merged.filter((c) => c.count > cut)
      for (const c of merged) c.count -= cut
      this.decrements++
    }
    this.repack(merged)
  }

  /** Decrements every counter, drops those reaching zero and re-packs the table. */
  private decrementAll(): void {
    this.decrements++
    const survivors = this.counters().filter((c) => c.count > 1)
    for (const c of survivors) c.count--
    this.repack(survivors)
  }

  private counters(): Counter[] {
    const { counts, hashes, values, mask } = this
    const counters: Counter[] = []
    for (let i = 0; i <= mask; i++) {
      if (counts[i] !== 0) counters.push({ hash: hashes[i]!, count: counts[i]!, value: values[i]! })
    }
    return counters
  }

  /** Empties the table and inserts `counters` (at most `capacity`, distinct values). */
  private repack(counters: Counter[]): void {
    const { counts, hashes, values, mask } = this
    counts.fill(0)
    values.fill(undefined)
    for (const c of counters) {
      let i = c.hash & mask
      while (counts[i] !== 0) i = (i + 1) & mask
      hashes[i] = c.hash
      counts[i] = c.count
      values[i] = c.value
    }
    this.size = counters.length
  }
}

interface Counter {
  hash: number
  count: number
  value: string
}
