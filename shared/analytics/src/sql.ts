/**
 * Values put into ClickHouse SQL. 18.16 has no `{name:Type}` parameters, so every value is
 * written as a literal here, from checked input only: names that match the platform's patterns,
 * numbers, and strings escaped for a single-quoted literal.
 */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`${value} is not a finite number`)
  return String(value)
}

/** `toDateTime('YYYY-MM-DD hh:mm:ss', 'UTC')` of a Date (second precision). */
export function sqlDateTime(date: Date): string {
  return `toDateTime('${date.toISOString().slice(0, 19).replace('T', ' ')}', 'UTC')`
}

export function sqlDate(date: Date): string {
  return `toDate('${date.toISOString().slice(0, 10)}')`
}

export function sqlStringArray(values: readonly string[]): string {
  // `[]` is Array(Nothing), which indexOf and has refuse to compare with a String.
  if (values.length === 0) return 'emptyArrayString()'
  return `[${values.map(sqlString).join(', ')}]`
}

/** A JSON field of a text column, as written by JSON.stringify (18.16 has no JSONExtract). */
export function jsonRaw(column: string, field: string): string {
  return `visitParamExtractRaw(${column}, ${sqlString(jsonKey(field))})`
}

/**
 * visitParam* look the key up as it appears between the quotes in the JSON text, so a key with
 * a quote or backslash is matched in its escaped form.
 */
function jsonKey(field: string): string {
  return JSON.stringify(field).slice(1, -1)
}

/** A number field of a JSON text column, NULL when missing, null or not a number. */
export function jsonNumber(column: string, field: string): string {
  return `toFloat64OrNull(${jsonRaw(column, field)})`
}

/** A string field (or a bare number or boolean, as text), NULL when missing or null. */
export function jsonText(column: string, field: string): string {
  const raw = jsonRaw(column, field)
  return `multiIf(${raw} IN ('', 'null'), NULL, substring(${raw}, 1, 1) = '"', toNullable(visitParamExtractString(${column}, ${sqlString(jsonKey(field))})), toNullable(${raw}))`
}

/** A JSON array of numbers (e.g. a classifier's probabilities) as Array(Float64). */
export function jsonNumberArray(column: string, field: string): string {
  return `arrayMap(x -> toFloat64OrZero(x), arrayFilter(x -> x != '', splitByChar(',', replaceRegexpAll(${jsonRaw(column, field)}, '[\\\\[\\\\] ]', ''))))`
}
