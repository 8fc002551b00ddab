import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'

/**
 * The records of a JSON Lines file (`-` reads stdin), `size` at a time, never the whole file in
 * memory. A line that is not a JSON object stops with an error naming its line number.
 */
export async function* recordBatches(
  path: string,
  size: number,
): AsyncGenerator<Array<Record<string, unknown>>> {
  const input = path === '-' ? process.stdin : createReadStream(path)
  let batch: Array<Record<string, unknown>> = []
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
    batch.push(record as Record<string, unknown>)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}
