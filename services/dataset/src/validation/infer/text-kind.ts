import type { ColumnType } from '../validation.types.ts'
import { parseIsoTimestamp } from './timestamp.ts'

/**
 * What one non-empty text cell looks like. Runs once per CSV cell, so it scans characters
 * instead of trying regexes and `Number()` in turn; the parsed value lands in `out.value`
 * (the number, the epoch milliseconds, or 1/0 for booleans) to avoid allocating per cell.
 *
 * Numbers are plain decimal: an optional sign, digits with an optional fraction, an optional
 * exponent. `0x1F`, `Infinity`, `NaN`, ` 12` (spaces), `1_000` and `1,5` stay strings, as
 * a reader of the file would expect, and an integer literal beyond ±2^53 counts as a float
 * because it cannot be held exactly.
 */
export interface ParsedValue {
  value: number
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/** Integer or float grammar check; returns the kind or 'string'. */
function numberKind(s: string): ColumnType {
  const len = s.length
  let i = 0
  let c = s.charCodeAt(0)
  if (c === 43 /* + */ || c === 45 /* - */) i++
  let intDigits = 0
  while (i < len && isDigit(s.charCodeAt(i))) {
    i++
    intDigits++
  }
  if (i === len) return intDigits > 0 ? 'integer' : 'string'
  let fracDigits = 0
  if (s.charCodeAt(i) === 46 /* . */) {
    i++
    while (i < len && isDigit(s.charCodeAt(i))) {
      i++
      fracDigits++
    }
  }
  if (intDigits + fracDigits === 0) return 'string'
  if (i < len) {
    c = s.charCodeAt(i)
    if (c !== 101 /* e */ && c !== 69 /* E */) return 'string'
    i++
    c = s.charCodeAt(i)
    if (c === 43 || c === 45) i++
    let expDigits = 0
    while (i < len && isDigit(s.charCodeAt(i))) {
      i++
      expDigits++
    }
    if (expDigits === 0 || i !== len) return 'string'
  }
  return 'float'
}

function isBooleanWord(s: string, out: ParsedValue): boolean {
  if (s.length === 4) {
    if (s === 'true' || s.toLowerCase() === 'true') {
      out.value = 1
      return true
    }
  } else if (s.length === 5) {
    if (s === 'false' || s.toLowerCase() === 'false') {
      out.value = 0
      return true
    }
  }
  return false
}

/** Classifies a non-empty cell. */
export function classifyText(s: string, out: ParsedValue): ColumnType {
  const c = s.charCodeAt(0)
  if (isDigit(c) || c === 45 || c === 43 || c === 46) {
    // Dates start with four digits and a dash; try them before numbers.
    if (s.length >= 10 && s.charCodeAt(4) === 45 && isDigit(c)) {
      const t = parseIsoTimestamp(s)
      if (t === t) {
        out.value = t
        return 'timestamp'
      }
      return 'string'
    }
    const kind = numberKind(s)
    if (kind === 'string') return kind
    const n = Number(s)
    if (!Number.isFinite(n)) return 'string'
    out.value = n
    if (kind === 'integer' && !Number.isSafeInteger(n)) return 'float'
    return kind
  }
  if (c === 116 || c === 102 || c === 84 || c === 70) {
    if (isBooleanWord(s, out)) return 'boolean'
  }
  return 'string'
}
