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

/**
 * Integer or float grammar check; returns the kind or 'string'. A short integer's value is
 * accumulated during the scan (exact below 2^53, so no `Number()` call is needed); for the
 * other numbers `out.value` is left for the caller to parse.
 */
function numberKind(s: string, out: ParsedValue): ColumnType | 'number' {
  const len = s.length
  let i = 0
  let c = s.charCodeAt(0)
  const negative = c === 45
  if (c === 43 /* + */ || negative) i++
  let intDigits = 0
  let value = 0
  while (i < len) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) break
    value = value * 10 + d
    i++
    intDigits++
  }
  if (i === len) {
    if (intDigits === 0) return 'string'
    if (intDigits > 15) return 'number'
    out.value = negative ? -value : value
    return 'integer'
  }
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
  return 'number'
}

/** No fraction or exponent: a long integer literal (within 2^53 it is still an integer). */
function isIntegerText(s: string): boolean {
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 || c === 101 || c === 69) return false
  }
  return true
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
    const kind = numberKind(s, out)
    if (kind !== 'number') return kind
    // Floats and long integers: let the engine parse them (correctly rounded).
    const n = Number(s)
    if (!Number.isFinite(n)) return 'string'
    out.value = n
    return isIntegerText(s) && Number.isSafeInteger(n) ? 'integer' : 'float'
  }
  if (c === 116 || c === 102 || c === 84 || c === 70) {
    if (isBooleanWord(s, out)) return 'boolean'
  }
  return 'string'
}
