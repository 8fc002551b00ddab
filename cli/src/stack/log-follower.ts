import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'

/** Copies what is appended to a log file to `write`, from the size it had when created. */
export class LogFollower {
  private offset: number

  constructor(
    private readonly file: string,
    private readonly write: (text: string) => void,
  ) {
    this.offset = existsSync(file) ? statSync(file).size : 0
  }

  /** Writes everything appended since the last call. */
  drain(): void {
    if (!existsSync(this.file)) return
    const size = statSync(this.file).size
    if (size <= this.offset) return
    const fd = openSync(this.file, 'r')
    try {
      const buffer = Buffer.alloc(size - this.offset)
      const read = readSync(fd, buffer, 0, buffer.length, this.offset)
      this.offset += read
      this.write(buffer.subarray(0, read).toString('utf8'))
    } finally {
      closeSync(fd)
    }
  }
}
