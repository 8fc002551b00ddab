import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { lastLines, logSize } from '../src/stack/log-tail.ts'

const dir = mkdtempSync(join(tmpdir(), 'argmax-log-tail-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('lastLines', () => {
  it('gives the last lines, without blank ones, and nothing for a missing file', () => {
    const file = join(dir, 'small.log')
    writeFileSync(file, 'one\ntwo\n\nthree\n')
    expect(lastLines(file, 2)).toEqual(['two', 'three'])
    expect(lastLines(file, 10)).toEqual(['one', 'two', 'three'])
    expect(lastLines(join(dir, 'missing.log'), 5)).toEqual([])
  })

  it('reads only the end of a large file and never returns a cut line', () => {
    const file = join(dir, 'large.log')
    const line = (i: number) => `line ${i} ${'x'.repeat(90)}`
    writeFileSync(file, Array.from({ length: 5_000 }, (_, i) => line(i)).join('\n') + '\n')
    const lines = lastLines(file, 1_000, { maxLength: 1_000 })
    expect(lines.at(-1)).toBe(line(4_999))
    // About 64 KiB of 100-byte lines, all whole.
    expect(lines.length).toBeGreaterThan(600)
    expect(lines.length).toBeLessThan(660)
    expect(lines.every((l) => /^line \d+ x{90}$/.test(l))).toBe(true)
  })

  it('gives only what was written from an offset on, and cuts long lines', () => {
    const file = join(dir, 'runs.log')
    writeFileSync(file, 'first run\n')
    const from = logSize(file)
    appendFileSync(file, `second run ${'y'.repeat(500)}\n`)
    expect(lastLines(file, 5, { from })).toEqual([`second run ${'y'.repeat(389)}…`])
    expect(lastLines(file, 5, { from: logSize(file) })).toEqual([])
  })
})
