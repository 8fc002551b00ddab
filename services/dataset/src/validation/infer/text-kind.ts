import type { ColumnType } from '../validation.types.ts'
import { parseIsoTimestamp } from './timestamp.ts'

/**
 * What one non-empty text cell looks like. Runs once per CSV cell, so it scans characters of
 * the cell's range in its line (no substring is cut) instead of trying regexes and `Number()`
 * in turn; the parsed value lands in `out.value` (the number, the epoch milliseconds, or 1/0
 * for booleans) to avoid allocating per cell.
 *
 * Numbers are plain decimal: an optional sign, digits with an optional fraction, an optional
 * exponent. `0x1F`, `Infinity`, `NaN`, ` 12` (spaces), `1_000` and `1,5` stay strings, as
 * a reader of the file would expect, and an integer literal beyond ±2^53 counts as a float
 * because it cannot be held exactly.
 */
export interface ParsedValue {
  value: number
}

/** 10^0 … 10^22: every one is exactly representable as a double. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * Checks the decimal grammar on `s[start, end)` and computes the value. With at most 15
 * significant digits and a decimal exponent within ±22 both the digits and the power of ten
 * are exact doubles, so one multiplication or division gives the correctly rounded value
 * (Clinger's fast path) — the same double `Number()` returns. Other numbers are left to
 * `Number()`.
 */
function parseNumber(s: string, start: number, end: number, out: ParsedValue): ColumnType {
  let i = start
  let c = s.charCodeAt(i)
  const negative = c === 45
  if (c === 43 /* + */ || negative) i++
  let digits = 0
  let significant = 0
  let mantissa = 0
  let intDigits = 0
  while (i < end) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) break
    if (significant > 0 || d > 0) significant++
    mantissa = mantissa * 10 + d
    i++
    intDigits++
  }
  digits = intDigits
  let isInteger = true
  let fracDigits = 0
  if (i < end && s.charCodeAt(i) === 46 /* . */) {
    isInteger = false
    i++
    while (i < end) {
      const d = s.charCodeAt(i) - 48
      if (d < 0 || d > 9) break
      if (significant > 0 || d > 0) significant++
      mantissa = mantissa * 10 + d
      i++
      fracDigits++
    }
    digits += fracDigits
  }
  if (digits === 0) return 'string'
  let exponent = 0
  if (i < end) {
    c = s.charCodeAt(i)
    if (c !== 101 /* e */ && c !== 69 /* E */) return 'string'
    isInteger = false
    i++
    c = s.charCodeAt(i)
    const negativeExponent = c === 45
    if (i < end && (c === 43 || negativeExponent)) i++
    let expDigits = 0
    while (i < end) {
      const d = s.charCodeAt(i) - 48
      if (d < 0 || d > 9) break
      // Capped: beyond this the value is 0 or Infinity anyway, and Number() decides.
      if (exponent < 100_000) exponent = exponent * 10 + d
      i++
      expDigits++
    }
    if (expDigits === 0 || i !== end) return 'string'
    if (negativeExponent) exponent = -exponent
  }
  const scale = exponent - fracDigits
  let value: number
  if (significant <= 15 && scale >= -22 && scale <= 22) {
    value =
      scale < 0 ? mantissa / EXACT_POWERS_OF_TEN[-scale]! : mantissa * EXACT_POWERS_OF_TEN[scale]!
    if (negative) value = -value
  } else {
    value = Number(s.slice(start, end))
    if (!Number.isFinite(value)) return 'string'
  }
  out.value = value
  return isInteger && Number.isSafeInteger(value) ? 'integer' : 'float'
}

/** `true` / `false` in any case. */
function isBooleanWord(s: string, start: number, end: number, out: ParsedValue): boolean {
  const len = end - start
  if (len !== 4 && len !== 5) return false
  const word = len === 4 ? 'true' : 'false'
  for (let i = 0; i < len; i++) {
    // ASCII letters: setting bit 5 lower-cases them.
    if ((s.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false
  }
  out.value = len === 4 ? 1 : 0
  return true
}

/** Classifies the non-empty cell `s[start, end)`. */
export function classifyText(s: string, out: ParsedValue, start = 0, end = s.length): ColumnType {
  const c = s.charCodeAt(start)
  if (isDigit(c) || c === 45 || c === 43 || c === 46) {
    // Dates start with four digits and a dash; try them before numbers.
    if (end - start >= 10 && s.charCodeAt(start + 4) === 45 && isDigit(c)) {
      const t = parseIsoTimestamp(s, start, end)
      if (t === t) {
        out.value = t
        return 'timestamp'
      }
      return 'string'
    }
    return parseNumber(s, start, end, out)
  }
  if ((c | 0x20) === 116 /* t */ || (c | 0x20) === 102 /* f */) {
    if (isBooleanWord(s, start, end, out)) return 'boolean'
  }
  return 'string'
}
