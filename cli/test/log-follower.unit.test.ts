import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LogFollower } from '../src/stack/log-follower.ts'

describe('LogFollower', () => {
  it('passes on only what is appended after it was created, once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'argmax-log-')), 'supervisor.log')
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
    const file = join(mkdtempSync(join(tmpdir(), 'argmax-log-')), 'later.log')
    const seen: string[] = []
    const follower = new LogFollower(file, (text) => seen.push(text))
    follower.drain()
    writeFileSync(file, 'first line\n')
    follower.drain()
    expect(seen).toEqual(['first line\n'])
  })
})
