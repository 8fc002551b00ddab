/**
 * The delimiter of a CSV file, guessed from its first line (the header): the candidate that
 * occurs most often outside quotes. Ties go to the earlier candidate, so a header with one
 * column (no candidate at all) reads as comma-separated.
 */
export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const
export type Delimiter = (typeof DELIMITER_CANDIDATES)[number]

const QUOTE = 34

export function detectDelimiter(firstLine: Uint8Array): Delimiter {
  const counts = new Map<number, number>(DELIMITER_CANDIDATES.map((d) => [d.charCodeAt(0), 0]))
  let quoted = false
  for (let i = 0; i < firstLine.length; i++) {
    const b = firstLine[i]!
    if (b === QUOTE) quoted = !quoted
    else if (!quoted) {
      const c = counts.get(b)
      if (c !== undefined) counts.set(b, c + 1)
    }
  }
  let best: Delimiter = ','
  let bestCount = 0
  for (const d of DELIMITER_CANDIDATES) {
    const c = counts.get(d.charCodeAt(0))!
    if (c > bestCount) {
      best = d
      bestCount = c
    }
  }
  return best
}
