/**
 * Offset of the first byte of `bytes` that is not part of a well-formed UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or -1. Only called on
 * a record already known to be invalid (`buffer.isUtf8` does the fast check), to say where.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    let min: number
    let max = 0xbf
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      min = 0x80
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      min = b === 0xe0 ? 0xa0 : 0x80
      if (b === 0xed) max = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      min = b === 0xf0 ? 0x90 : 0x80
      if (b === 0xf4) max = 0x8f
    } else {
      return i
    }
    if (i + need >= n) return i
    const second = bytes[i + 1]!
    if (second < min || second > max) return i
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!
      if (c < 0x80 || c > 0xbf) return i
    }
    i += need + 1
  }
  return -1
}
