import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { describeExit, spawnServer } from '../src/process.ts'

const dir = mkdtempSync(join(tmpdir(), 'argmax-spawn-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('spawnServer', () => {
  it('has the last words of both outputs in the log by the time it reports the exit', async () => {
    const logFile = join(dir, 'dies.log')
    // Much output, then the reason on stderr just before the end.
    const script = `
      for (let i = 0; i < 20000; i++) process.stdout.write('out ' + i + '\\n')
      process.stderr.write('fatal: listen EADDRINUSE\\n')
      process.exitCode = 3`
    const server = spawnServer(process.execPath, ['-e', script], { logFile })
    expect(await server.exited).toEqual({ code: 3, signal: null })
    const log = readFileSync(logFile, 'utf8')
    expect(log).toContain('out 19999\n')
    expect(log).toContain('fatal: listen EADDRINUSE\n')
  })

  it('says which signal ended a process', async () => {
    const server = spawnServer(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      logFile: join(dir, 'killed.log'),
    })
    server.child.kill('SIGKILL')
    const exit = await server.exited
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' })
    expect(describeExit(exit)).toBe('killed by SIGKILL')
    expect(describeExit({ code: 1, signal: null })).toBe('exit code 1')
  })

  it('reports the exit even while a grandchild keeps its output open', async () => {
    const logFile = join(dir, 'orphan.log')
    // The background sleep inherits the pipes and outlives its parent.
    const server = spawnServer('sh', ['-c', 'sleep 60 & echo "orphan $!"; exit 4'], { logFile })
    try {
      expect(await server.exited).toEqual({ code: 4, signal: null })
      expect(readFileSync(logFile, 'utf8')).toMatch(/^orphan \d+$/m)
    } finally {
      const orphan = /^orphan (\d+)$/m.exec(readFileSync(logFile, 'utf8'))?.[1]
      if (orphan) process.kill(Number(orphan), 'SIGKILL')
    }
  })
})
