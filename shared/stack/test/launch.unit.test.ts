import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { launchArgs } from '../src/launch.ts'

const run = promisify(execFile)
// In the package, so that its npm dependencies resolve from the entry as they would in a service.
const dir = mkdtempSync(fileURLToPath(new URL('../.launch-test-', import.meta.url)))
const entry = join(dir, 'main.ts')
const helper = join(dir, 'helper.ts')
// Where the launcher keeps this entry's builds (bin/launch.mjs: a folder per entry path).
const builds = fileURLToPath(
  new URL(
    `../../../node_modules/.cache/argmax-launch/${createHash('sha256').update(entry).digest('hex').slice(0, 16)}`,
    import.meta.url,
  ),
)
const currentBuild = () =>
  (JSON.parse(readFileSync(join(builds, 'current.json'), 'utf8')) as { build: string }).build
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(builds, { recursive: true, force: true })
})

describe('launch', () => {
  writeFileSync(
    entry,
    `import { stamp } from './helper.ts'
     import pRetry from 'p-retry'
     const args: string[] = process.argv.slice(2)
     console.log(JSON.stringify({ stamp, url: import.meta.url, argv1: process.argv[1], args, retries: typeof pRetry }))`,
  )
  const launch = async (...args: string[]) =>
    JSON.parse((await run(process.execPath, [...launchArgs(entry), ...args])).stdout) as Record<
      string,
      unknown
    >

  it('runs a TypeScript entry with its arguments, its own import.meta.url and npm packages', async () => {
    writeFileSync(helper, `export const stamp: string = 'first'`)
    expect(await launch('--flag', 'value')).toEqual({
      stamp: 'first',
      url: pathToFileURL(entry).href,
      argv1: entry,
      args: ['--flag', 'value'],
      retries: 'function',
    })
  })

  it('builds again when one of the sources changed, and only then', async () => {
    writeFileSync(helper, `export const stamp: string = 'first'`)
    expect((await launch()).stamp).toBe('first')
    const first = currentBuild()
    writeFileSync(helper, `export const stamp: string = 'second, a little longer'`)
    expect((await launch()).stamp).toBe('second, a little longer')
    const second = currentBuild()
    expect(second).not.toBe(first)
    expect((await launch()).stamp).toBe('second, a little longer')
    expect(currentBuild()).toBe(second)
  })

  it('fails with the compiler’s message on a source that does not compile', async () => {
    writeFileSync(helper, `export const stamp: string = 'third`)
    await expect(launch()).rejects.toMatchObject({ stderr: expect.stringContaining('helper.ts') })
  })
})
