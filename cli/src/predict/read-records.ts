import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { CsvError, parse as parseCsv } from 'csv-parse'

/** How the rows to predict are written: JSON Lines of records, or CSV with a header row. */
export type RecordFormat = 'jsonl' | 'csv'

/** The format a file's name says (`.csv` is CSV, anything else JSON Lines), unless one is given. */
export function recordFormatOf(path: string, given?: string): RecordFormat {
  if (given === undefined) return /\.csv$/i.test(path) ? 'csv' : 'jsonl'
  if (given === 'csv' || given === 'jsonl') return given
  throw new Error(`--format must be csv or jsonl, not ${JSON.stringify(given)}`)
}

/**
 * The records of a JSON Lines or CSV file (`-` reads stdin), `size` at a time, never the whole
 * file in memory. CSV records keep their values as text (the prediction client types them by
 * the model's signature). A line that is not a JSON object, or CSV that does not parse, stops
 * with an error naming the file and the line.
 */
export async function* recordBatches(
  path: string,
  size: number,
  format: RecordFormat = 'jsonl',
): AsyncGenerator<Array<Record<string, unknown>>> {
  const input = path === '-' ? process.stdin : createReadStream(path)
  const records = format === 'csv' ? csvRecords(input, path) : jsonLinesRecords(input, path)
  let batch: Array<Record<string, unknown>> = []
  for await (const record of records) {
    batch.push(record)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

async function* jsonLinesRecords(
  input: NodeJS.ReadableStream,
  path: string,
): AsyncGenerator<Record<string, unknown>> {
  let line = 0
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++
    if (text.trim() === '') continue
    let record: unknown
    try {
      record = JSON.parse(text)
    } catch (error) {
      throw new Error(`${path}:${line}: not JSON (${(error as Error).message})`)
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new Error(`${path}:${line}: not a JSON object of input name → value`)
    }
    yield record as Record<string, unknown>
  }
}

async function* csvRecords(
  input: NodeJS.ReadableStream,
  path: string,
): AsyncGenerator<Record<string, string>> {
  const parser = input.pipe(parseCsv({ columns: true, bom: true, skip_empty_lines: true }))
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) yield record
  } catch (error) {
    // csv-parse's message names the line ("… on line 3").
    if (error instanceof CsvError) throw new Error(`${path}: ${error.message}`)
    throw error
  }
}
