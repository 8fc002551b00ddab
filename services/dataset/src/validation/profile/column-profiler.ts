import { widenType } from '../infer/column-type.ts'
import { classifyText, type ParsedValue } from '../infer/text-kind.ts'
import { parseIsoTimestamp } from '../infer/timestamp.ts'
import type { ColumnProfile, ColumnSchema, ColumnType, TypeWidening } from '../validation.types.ts'
import { StreamingHistogram } from './histogram.ts'
import { hashString, HyperLogLog } from './hyperloglog.ts'
import { TopValues } from './top-values.ts'
import { detach, truncate } from './strings.ts'
import { RunningMoments } from './welford.ts'
import { revive } from './revive.ts'

const TOP_VALUES_REPORTED = 10
const WIDENING_VALUE_CHARS = 64
/** Top values longer than this are kept and shown cut (memory bound). */
const TOP_VALUE_MAX_CHARS = 200

/**
 * Everything known about one column, updated value by value in constant space: its inferred
 * type (with the reasons it widened), non-null count and distinct estimate for every column,
 * moments and histogram while it is numeric, min/max while it is a timestamp, frequent values
 * while it is text or boolean. Numeric and timestamp statistics stay valid because a column
 * only keeps those types while every value so far had them (any other mix widens to string,
 * see widenType).
 *
 * Frequent values are only tracked for text and booleans (they cost a map operation per
 * value). A column that widens to string late therefore counts its top values from the
 * widening row on — still lower bounds of the true counts — and its distinct estimate mixes
 * values hashed as numbers with values hashed as text (an overcount of at most the values
 * seen both ways).
 */
export class ColumnProfiler {
  private type: ColumnType | null = null
  private readonly widenings: TypeWidening[] = []
  private count = 0
  private readonly distinct = new HyperLogLog()
  private readonly top = new TopValues()
  private moments: RunningMoments | null = null
  private histogram: StreamingHistogram | null = null
  private minTime = Infinity
  private maxTime = -Infinity
  private readonly parsed: ParsedValue = { value: 0 }
  /** The first value and its row: where the type chain starts, needed to merge parts. */
  private first: { row: number; value: string } | null = null

  constructor(readonly name: string) {}

  /** A CSV cell; the empty string is null. */
  observeText(s: string, row: number): void {
    this.observeRange(s, 0, s.length, row)
  }

  /** The CSV cell `text[start, end)`, read in place in its line; empty is null. */
  observeRange(text: string, start: number, end: number, row: number): void {
    if (start === end) return
    this.count++
    if (this.type === 'string') {
      this.addText(text, start, end)
      return
    }
    const kind = classifyText(text, this.parsed, start, end)
    if (kind !== this.type) this.retype(kind, row, text.slice(start, end))
    this.addTyped(text, start, end)
  }

  /**
   * A JSON value. JSON carries its own types, so a quoted "12" stays a string; strings are
   * only tested for ISO timestamps. Nested objects and arrays count as their JSON text.
   */
  observeJson(v: unknown, row: number): void {
    let kind: ColumnType
    let text: string
    switch (typeof v) {
      case 'number':
        this.parsed.value = v
        kind = Number.isSafeInteger(v) ? 'integer' : 'float'
        text = String(v)
        break
      case 'boolean':
        this.parsed.value = v ? 1 : 0
        kind = 'boolean'
        text = v ? 'true' : 'false'
        break
      case 'string': {
        if (v.length === 0) return
        kind = 'string'
        text = v
        if (this.type !== 'string') {
          const t = parseIsoTimestamp(v)
          if (t === t) {
            this.parsed.value = t
            kind = 'timestamp'
          }
        }
        break
      }
      case 'object':
        if (v === null) return
        kind = 'string'
        text = JSON.stringify(v)
        break
      default:
        return
    }
    this.count++
    if (kind !== this.type) this.retype(kind, row, text)
    this.addTyped(text, 0, text.length)
  }

  /** Adds the value in `parsed` (or `text[start, end)`) to the statistics of the column's type. */
  private addTyped(text: string, start: number, end: number): void {
    const value = this.parsed.value
    switch (this.type) {
      case 'integer':
      case 'float':
        this.distinct.addNumber(value)
        this.moments!.add(value)
        this.histogram!.add(value)
        return
      case 'timestamp':
        this.distinct.addNumber(value)
        if (value < this.minTime) this.minTime = value
        if (value > this.maxTime) this.maxTime = value
        return
      case 'boolean':
        if (value) this.addText('true', 0, 4)
        else this.addText('false', 0, 5)
        return
      default:
        this.addText(text, start, end)
    }
  }

  /** Distinct and frequent values; only for text and booleans, where categories live. */
  private addText(text: string, start: number, end: number): void {
    const hash = hashString(text, start, end)
    this.distinct.addHash(hash)
    if (end - start <= TOP_VALUE_MAX_CHARS) {
      this.top.add(text, start, end, hash)
    } else {
      // Counted by the full value's hash; a value longer than the cut is shown cut.
      const cut = truncate(text.slice(start, end), TOP_VALUE_MAX_CHARS)
      this.top.add(cut, 0, cut.length, hash)
    }
  }

  private retype(kind: ColumnType, row: number, text: string): void {
    if (widenType(this.type, kind) !== this.type) {
      this.widen(kind, row, detach(truncate(text, WIDENING_VALUE_CHARS)))
    }
  }

  /** Joins the type with `kind`, seen first at `row` as `value` (already cut and detached). */
  private widen(kind: ColumnType, row: number, value: string): void {
    const next = widenType(this.type, kind)
    if (next === this.type) return
    if (this.type !== null) {
      this.widenings.push({ from: this.type, to: next, row, value })
    } else {
      this.first = { row, value }
    }
    if (this.type === null && (next === 'integer' || next === 'float')) {
      this.moments = new RunningMoments()
      this.histogram = new StreamingHistogram()
    }
    if (next === 'string') {
      this.moments = null
      this.histogram = null
    }
    this.type = next
  }

  /**
   * Folds in the profile of a later part of the same column (rows after all of this one's).
   * The type is a join (widenType), so replaying the other part's type chain — its first
   * value, then each of its widenings — onto this type widens exactly where one pass over
   * both parts would have, at the same rows with the same values. Counts, distinct sketch,
   * moments, histogram and frequent values merge by their own rules.
   */
  merge(other: ColumnProfiler): void {
    if (other.first !== null) {
      const firstType = other.widenings[0]?.from ?? other.type!
      this.widen(firstType, other.first.row, other.first.value)
    }
    for (const step of other.widenings) this.widen(step.to, step.row, step.value)
    this.count += other.count
    this.distinct.merge(other.distinct)
    this.top.merge(other.top)
    if (this.moments !== null && other.moments !== null) this.moments.merge(other.moments)
    if (this.histogram !== null && other.histogram !== null) this.histogram.merge(other.histogram)
    if (other.minTime < this.minTime) this.minTime = other.minTime
    if (other.maxTime > this.maxTime) this.maxTime = other.maxTime
  }

  /** A structured clone of a ColumnProfiler (fields without classes) made one again. */
  static revive(clone: ColumnProfiler): ColumnProfiler {
    const column = revive(clone, ColumnProfiler)
    revive(column.distinct, HyperLogLog)
    revive(column.top, TopValues)
    if (column.moments !== null) revive(column.moments, RunningMoments)
    if (column.histogram !== null) revive(column.histogram, StreamingHistogram)
    return column
  }

  schema(rowCount: number): ColumnSchema {
    return {
      name: this.name,
      // A column with no value at all has nothing to say but text.
      type: this.type ?? 'string',
      nullable: this.count < rowCount,
      widenings: this.widenings,
    }
  }

  profile(rowCount: number): ColumnProfile {
    const profile: ColumnProfile = {
      name: this.name,
      type: this.type ?? 'string',
      count: this.count,
      nulls: rowCount - this.count,
      distinct: this.count === 0 ? 0 : this.distinct.estimate(),
      topValues: this.top.top(TOP_VALUES_REPORTED),
    }
    if (this.moments !== null && this.histogram !== null && this.moments.count > 0) {
      profile.numeric = {
        min: this.moments.min,
        max: this.moments.max,
        mean: this.moments.mean,
        std: this.moments.sampleStd(),
        histogram: this.histogram.bins(),
      }
    }
    if (this.type === 'timestamp') {
      profile.timestamp = {
        min: new Date(this.minTime).toISOString(),
        max: new Date(this.maxTime).toISOString(),
      }
    }
    return profile
  }
}
