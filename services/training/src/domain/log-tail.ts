/**
 * Events carry a failure's last log lines so that a failed run explains itself, but an event
 * must fit NATS's 1 MiB payload by construction: tails and messages are cut to these bounds.
 */
export const MAX_LOG_TAIL_LINES = 50
export const MAX_LOG_TAIL_BYTES = 8 * 1024
export const MAX_MESSAGE_CHARS = 2000

/** The last lines of `text`, at most MAX_LOG_TAIL_LINES of them and MAX_LOG_TAIL_BYTES in all. */
export function boundLogTail(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n').slice(-MAX_LOG_TAIL_LINES)
  let kept = lines.join('\n')
  while (Buffer.byteLength(kept, 'utf8') > MAX_LOG_TAIL_BYTES && lines.length > 1) {
    lines.shift()
    kept = lines.join('\n')
  }
  if (Buffer.byteLength(kept, 'utf8') > MAX_LOG_TAIL_BYTES) {
    // One huge line: keep its end, which is where errors are.
    kept = Buffer.from(kept, 'utf8')
      .subarray(-MAX_LOG_TAIL_BYTES)
      .toString('utf8')
      .replace(/^\uFFFD+/, '')
  }
  return kept
}

export function boundMessage(message: string): string {
  return message.length > MAX_MESSAGE_CHARS
    ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…`
    : message
}
