import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'

/** Enough for a few dozen log lines; a log file may be hundreds of MiB. */
const TAIL_BYTES = 64 * 1024

/** The size of a log file now (0 when it does not exist yet): where the next run's output starts. */
export function logSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0
}

/**
 * The last `count` lines of a log file written from byte `from` on, each cut to `maxLength`
 * characters (a JSON log line can be long), without reading more than its last 64 KiB.
 */
export function lastLines(
  file: string,
  count: number,
  { from = 0, maxLength = 400 } = {},
): string[] {
  const size = logSize(file)
  const start = Math.max(from, size - TAIL_BYTES)
  if (start >= size) return []
  const buffer = Buffer.alloc(size - start)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, buffer, 0, buffer.length, start)
  } finally {
    closeSync(fd)
  }
  const lines = buffer.toString('utf8').split('\n')
  // Started inside the file rather than where asked: the first line is probably cut.
  if (start > from) lines.shift()
  return lines
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0)
    .slice(-count)
    .map((line) => (line.length > maxLength ? `${line.slice(0, maxLength)}…` : line))
}
