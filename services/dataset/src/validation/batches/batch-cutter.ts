import { CarryOver } from '../carry-over.ts'
import { findQuotedRecordEnd, MAX_RECORD_BYTES } from '../csv/csv-splitter.ts'

const NL = 10
const QUOTE = 34

/** A stretch of whole records of the file, which a reader can check and profile on its own. */
export interface Batch {
  /** 0 for the batch that starts the file. */
  index: number
  bytes: Buffer
  /** The 1-based line the batch starts on. */
  firstLine: number
  /** File offset of its first byte. */
  offset: number
  /** For CSV batches after the first: the header record, which their reader needs first. */
  header: Buffer | null
}

/**
 * Cuts a file's byte stream into batches of about `targetBytes`, each ending at a record
 * boundary: the first line end at or after `targetBytes` that is not inside a quoted field
 * (for CSV; JSON Lines cannot hold a raw newline inside a value). Where the cuts fall depends
 * only on the bytes, never on how the stream was chunked, so the same file always gives the
 * same batches — and the same profile.
 *
 * Quote state is read by toggling at every quote character (a doubled "" toggles twice), as
 * the CSV splitter does. A file whose quoting is broken may be cut inside a record; the
 * reader of that batch then reports the broken quoting, as it would have in one pass.
 *
 * When no boundary comes within MAX_RECORD_BYTES past the target (an unclosed quote, a file
 * without line feeds), everything so far becomes the last batch: its reader refuses the long
 * record and stops, so later bytes would not be read anyway.
 */
export class BatchCutter {
  /** The CSV header record (from byte 0, a byte order mark included), once batch 0 is cut. */
  private header: Buffer | null = null
  private readonly pending = new CarryOver()
  private index = 0
  private line = 1
  private offset = 0
  private exhausted = false

  constructor(
    private readonly quoted: boolean,
    private readonly targetBytes: number,
  ) {}

  *push(chunk: Buffer): Generator<Batch> {
    if (this.exhausted) return
    const mayCut = this.pending.length + chunk.length >= this.targetBytes && chunk.includes(NL)
    this.pending.add(chunk)
    if (!mayCut) {
      if (this.pending.length > this.targetBytes + MAX_RECORD_BYTES) yield* this.giveUp()
      return
    }
    while (this.pending.length >= this.targetBytes) {
      const buf = this.pending.takeWith()
      const cut = boundaryAtOrAfter(buf, this.targetBytes, this.quoted)
      if (cut === -1) {
        this.pending.add(buf)
        if (buf.length > this.targetBytes + MAX_RECORD_BYTES) yield* this.giveUp()
        return
      }
      yield this.emit(buf.subarray(0, cut))
      this.pending.add(buf.subarray(cut))
    }
  }

  /** The rest as the last batch; an empty file still gives one (empty) batch. */
  *end(): Generator<Batch> {
    if (this.exhausted) return
    this.exhausted = true
    if (this.pending.length > 0 || this.index === 0) yield this.emit(this.pending.takeWith())
  }

  private *giveUp(): Generator<Batch> {
    yield this.emit(this.pending.takeWith())
    this.exhausted = true
  }

  private emit(bytes: Buffer): Batch {
    if (this.index === 0 && this.quoted) {
      const headerEnd = boundaryAtOrAfter(bytes, 0, true)
      if (headerEnd !== -1) this.header = Buffer.from(bytes.subarray(0, headerEnd))
    }
    const header = this.index > 0 ? this.header : null
    const batch = { index: this.index++, bytes, firstLine: this.line, offset: this.offset, header }
    this.line += countNewlines(bytes)
    this.offset += bytes.length
    return batch
  }
}

/**
 * The offset just past the first line feed at or after `from - 1` that ends a record (outside
 * quotes when `quoted`), or -1 when `buf` holds none. `buf` starts at a record boundary.
 */
function boundaryAtOrAfter(buf: Buffer, from: number, quoted: boolean): number {
  let pos = Math.max(0, from - 1)
  let firstQuote = -1
  if (quoted) {
    let inQuotes = false
    for (let q = buf.indexOf(QUOTE); q !== -1 && q < pos; q = buf.indexOf(QUOTE, q + 1)) {
      inQuotes = !inQuotes
    }
    if (inQuotes) {
      const close = buf.indexOf(QUOTE, pos)
      if (close === -1) return -1
      pos = close + 1
    }
    firstQuote = buf.indexOf(QUOTE, pos)
  }
  const nl = findQuotedRecordEnd(buf, pos, firstQuote, NL, QUOTE)
  return nl === -1 ? -1 : nl + 1
}

function countNewlines(bytes: Buffer): number {
  let count = 0
  for (let i = bytes.indexOf(NL); i !== -1; i = bytes.indexOf(NL, i + 1)) count++
  return count
}
