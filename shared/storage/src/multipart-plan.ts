/** S3's multipart rules, the same on AWS, MinIO and R2. */
export const MIN_PART_SIZE = 5 * 1024 * 1024
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
export const MAX_PARTS = 10_000

export interface PartPlan {
  /** Size of every part but the last, which holds the remainder. */
  partSize: number
  partCount: number
}

/**
 * Splits `size` bytes into parts of `partSize` (the client's choice, checked against S3's
 * rules). Returns an error message rather than throwing so callers can name the field.
 */
export function planParts(size: number, partSize: number): PartPlan | { error: string } {
  if (!Number.isSafeInteger(size) || size < 0) return { error: 'size must be a whole number ≥ 0' }
  if (!Number.isSafeInteger(partSize)) return { error: 'partSize must be a whole number' }
  if (partSize < MIN_PART_SIZE) return { error: `partSize must be at least ${MIN_PART_SIZE} bytes` }
  if (partSize > MAX_PART_SIZE) return { error: `partSize must be at most ${MAX_PART_SIZE} bytes` }
  // An empty file is still one (empty) part: S3 needs at least one to complete.
  const partCount = Math.max(1, Math.ceil(size / partSize))
  if (partCount > MAX_PARTS) {
    return {
      error: `${partCount} parts of ${partSize} bytes exceed S3's ${MAX_PARTS}; use parts of at least ${Math.ceil(size / MAX_PARTS)} bytes`,
    }
  }
  return { partSize, partCount }
}

/** A part size that keeps the part count within S3's limit for a file of `size` bytes. */
export function defaultPartSize(size: number, preferred = 8 * 1024 * 1024): number {
  const needed = Math.ceil(size / MAX_PARTS)
  return Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, preferred, needed))
}

/** Byte range [start, end) of a 1-based part number within a file of `size` bytes. */
export function partRange(
  plan: PartPlan,
  size: number,
  partNumber: number,
): { start: number; end: number } {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new RangeError(`part ${partNumber} is outside 1..${plan.partCount}`)
  }
  const start = (partNumber - 1) * plan.partSize
  return { start, end: Math.min(size, start + plan.partSize) }
}
