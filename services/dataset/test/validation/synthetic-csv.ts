/**
 * A deterministic tabular CSV of any size, produced chunk by chunk so that neither the test
 * nor the benchmark holds it: integers, floats, text (some quoted, with a delimiter inside),
 * booleans, ISO timestamps, and empty cells as nulls. Rows are ~60–80 bytes.
 */
export const SYNTHETIC_HEADER = 'id,quantity,price,city,active,created_at,rating\n'

const CITIES = ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Quito', 'Accra', 'Hanoi', 'Porto', 'Cork']

function row(i: number): string {
  const quantity = (i * 7919) % 1000
  const price = ((i * 104729) % 100_000) / 100
  const city = i % 20 === 0 ? `"${CITIES[i % 9]}, ${i % 7}"` : CITIES[(i * 31) % 9]
  const active = i % 3 === 0 ? 'true' : 'false'
  const day = String((i % 28) + 1).padStart(2, '0')
  const month = String((i % 12) + 1).padStart(2, '0')
  const second = String(i % 60).padStart(2, '0')
  const rating = i % 11 === 0 ? '' : String((i % 50) / 10)
  return `${i},${quantity},${price},${city},${active},2024-${month}-${day}T12:00:${second}Z,${rating}\n`
}

/** Chunks of about `chunkBytes` until at least `totalBytes` have been produced. */
export function* syntheticCsvChunks(totalBytes: number, chunkBytes = 64 * 1024): Generator<Buffer> {
  let produced = 0
  let i = 0
  let pending = SYNTHETIC_HEADER
  while (produced < totalBytes) {
    while (pending.length < chunkBytes) pending += row(i++)
    const chunk = Buffer.from(pending, 'latin1')
    produced += chunk.length
    pending = ''
    yield chunk
  }
}
