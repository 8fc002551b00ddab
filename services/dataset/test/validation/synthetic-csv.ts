/**
 * A deterministic tabular CSV of any size, produced chunk by chunk so that neither the test
 * nor the benchmark holds it: integers, floats, text (some quoted, with a delimiter inside),
 * booleans, ISO timestamps, and empty cells as nulls. Rows are ~60–80 bytes.
 */
export const SYNTHETIC_HEADER = 'id,quantity,price,city,active,created_at,rating\n'

const CITIES = ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Quito', 'Accra', 'Hanoi', 'Porto', 'Cork']

// Row i is `${i},${quantity},${price},${city},${tail}`; every cell but the id repeats with a
// period, so each is built once for its period and looked up (the test generates ~200 MB
// twice: building every cell for each row took longer than validating it).
const table = (period: number, cell: (r: number) => string) =>
  Array.from({ length: period }, (_, r) => cell(r))
const QUANTITY = table(1000, (r) => String(r)) // (i * 7919) % 1000
const PRICE = table(100_000, (r) => String(r / 100)) // ((i * 104729) % 100_000) / 100
const CITY_PERIOD = 1260 // lcm(20, 9, 7)
const CITY = table(CITY_PERIOD, (r) =>
  r % 20 === 0 ? `"${CITIES[r % 9]}, ${r % 7}"` : CITIES[(r * 31) % 9]!,
)
const TAIL_PERIOD = 23_100 // lcm(3, 28, 12, 60, 11, 50)
const TAIL = table(TAIL_PERIOD, (r) => {
  const active = r % 3 === 0 ? 'true' : 'false'
  const day = String((r % 28) + 1).padStart(2, '0')
  const month = String((r % 12) + 1).padStart(2, '0')
  const second = String(r % 60).padStart(2, '0')
  const rating = r % 11 === 0 ? '' : String((r % 50) / 10)
  return `${active},2024-${month}-${day}T12:00:${second}Z,${rating}\n`
})

function row(i: number): string {
  return `${i},${QUANTITY[(i * 7919) % 1000]},${PRICE[(i * 104729) % 100_000]},${CITY[i % CITY_PERIOD]},${TAIL[i % TAIL_PERIOD]}`
}

/** Chunks of about `chunkBytes` until at least `totalBytes` have been produced. */
export function* syntheticCsvChunks(totalBytes: number, chunkBytes = 64 * 1024): Generator<Buffer> {
  // A chunk ends after the row that reaches `chunkBytes`; no row is near 256 bytes.
  const capacity = Math.max(chunkBytes, SYNTHETIC_HEADER.length) + 256
  let produced = 0
  let i = 0
  let chunk = Buffer.allocUnsafe(capacity)
  let length = chunk.write(SYNTHETIC_HEADER, 0, 'latin1')
  while (produced < totalBytes) {
    while (length < chunkBytes) length += chunk.write(row(i++), length, 'latin1')
    produced += length
    yield chunk.subarray(0, length)
    chunk = Buffer.allocUnsafe(capacity)
    length = 0
  }
}
