import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LogFollower } from '../src/stack/log-follower.ts'

const dir = mkdtempSync(join(tmpdir(), 'argmax-log-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('LogFollower', () => {
  it('passes on only what is appended after it was created, once', () => {
    const file = join(dir, 'supervisor.log')
    writeFileSync(file, 'from an earlier run\n')
    const seen: string[] = []
    const follower = new LogFollower(file, (text) => seen.push(text))
    follower.drain()
    appendFileSync(file, 'nats ready\n')
    follower.drain()
    follower.drain()
    appendFileSync(file, 'all ready\n')
    follower.drain()
    expect(seen).toEqual(['nats ready\n', 'all ready\n'])
  })

  it('waits for a file that does not exist yet', () => {
    const file = join(dir, 'later.log')
    const seen: string[] = []
    const follower = new LogFollower(file, (text) => seen.push(text))
    follower.drain()
    writeFileSync(file, 'first line\n')
    follower.drain()
    expect(seen).toEqual(['first line\n'])
  })
})
