import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * The movies dataset shipped inside the `vega-datasets` package, read from disk (the
 * package's own loader downloads from the internet), and written out as CSV and JSON Lines
 * the way a user's export would.
 */
export type Movie = Record<string, string | number | null>

export function loadMovies(): Movie[] {
  const entry = createRequire(import.meta.url).resolve('vega-datasets')
  const file = join(dirname(entry), '..', 'data', 'movies.json')
  return JSON.parse(readFileSync(file, 'utf8')) as Movie[]
}

function columnsOf(rows: Movie[]): string[] {
  const columns = new Set<string>()
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key)
  return [...columns]
}

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function moviesAsCsv(rows: Movie[]): string {
  const columns = columnsOf(rows)
  const lines = [columns.map(csvField).join(',')]
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','))
  return lines.join('\n') + '\n'
}

export function moviesAsJsonl(rows: Movie[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + '\n'
}
