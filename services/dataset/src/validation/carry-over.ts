/**
 * Bytes carried from one chunk to the next: the start of a record whose end has not arrived.
 * Chunks are only listed until a chunk that may end the record comes, then joined once —
 * joining at every chunk would copy a long record over and over (quadratic).
 */
export class CarryOver {
  private parts: Buffer[] = []
  length = 0

  add(bytes: Buffer): void {
    if (bytes.length === 0) return
    this.parts.push(bytes)
    this.length += bytes.length
  }

  /** Everything carried, followed by `next`, as one buffer; the carry is then empty. */
  takeWith(next?: Buffer): Buffer {
    const parts = next === undefined ? this.parts : [...this.parts, next]
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    this.parts = []
    this.length = 0
    return joined
  }
}
