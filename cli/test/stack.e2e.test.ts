import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { forged } from '@argmax/testkit/forged'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../src/stack/paths.ts'
import { freePortBase } from '../src/stack/ports.ts'
import { isAlive } from '../src/stack/processes.ts'
import type { StackState } from '../src/stack/state.ts'
import { hostileRequests, judge, type OpenApiDocument } from './support/hostile-requests.ts'

/**
 * The whole local platform through its public surface: the `argmax` command and the edge.
 * One temporary data dir and a block of non-default ports, so it runs beside a developer's
 * own stack and the test kit's servers.
 */
const argmax = join(repoRoot, 'cli/bin/argmax')
const dataDir = mkdtempSync(join(tmpdir(), 'argmax-e2e-'))
const failedDir = mkdtempSync(join(tmpdir(), 'argmax-e2e-fail-'))

// File-level, so it runs even when a filter skips one of the describes: whatever happened,
// leave nothing running and nothing on disk.
afterAll(async () => {
  for (const dir of [dataDir, failedDir]) {
    await new Promise((resolve) =>
      execFile(argmax, ['down', '--data-dir', dir], { timeout: 120_000 }, resolve),
    )
    rmSync(dir, { recursive: true, force: true })
  }
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      argmax,
      [...args, '--data-dir', dataDir],
      { timeout: 240_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const readState = (): StackState =>
  JSON.parse(readFileSync(join(dataDir, 'run/state.json'), 'utf8')) as StackState

/** Infrastructure servers whose command line names this data dir, as `ps` would show them. */
function serversOfDataDir(): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      continue
    }
    if (
      /(nats-server|postgres|clickhouse)/.test(cmdline) &&
      cmdline.includes(dataDir) &&
      isAlive(Number(entry))
    ) {
      found.push(`${entry}: ${cmdline}`)
    }
  }
  return found
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

interface PartStatus {
  name: string
  pid: number
  ready: boolean
  supervision?: { phase: string; restarts: number; crashLoop: boolean }
}

/** `argmax status --json` until `done` says so; fails after `timeoutMs`, naming what it waited for. */
async function waitForStatus(
  what: string,
  done: (parts: Map<string, PartStatus>, allReady: boolean) => boolean,
  timeoutMs = 180_000,
): Promise<Map<string, PartStatus>> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    const { stdout } = await run('status', '--json')
    last = stdout
    const json = JSON.parse(stdout) as { allReady: boolean; parts: PartStatus[] }
    const parts = new Map(json.parts.map((p) => [p.name, p]))
    if (done(parts, json.allReady)) return parts
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`waited ${timeoutMs / 1000} s for ${what}; last status:\n${last}`)
}

/** Listens on `port` as soon as it is free (a killed process lets go of it within moments). */
async function takePort(port: number, sockets: Set<Socket>): Promise<Server> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const server = createServer((socket) => sockets.add(socket))
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (bound) return server
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`port ${port} stayed busy`)
}

/** Everything the supervisor has logged for this data dir. */
const supervisorLog = () => readFileSync(join(dataDir, 'logs/supervisor.log'), 'utf8')

describe('argmax up / status / login / down', () => {
  let base: number
  let edge: string

  beforeAll(async () => {
    base = await freePortBase()
    edge = `http://127.0.0.1:${base}`
  })

  it('comes up detached with every part ready and reports it', async () => {
    const up = await run('up', '--detach', '--port-base', String(base))
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toContain(edge)
    expect(up.stdout).toMatch(/Dev admin token/)
    expect(up.stdout).toMatch(/inference gRPC\s+127\.0\.0\.1:\d+/)

    const status = await run('status')
    expect(status.code, status.stdout).toBe(0)
    expect(status.stdout.trim().split('\n').at(-1)).toBe('all ready')
    for (const name of [
      'nats',
      'postgres',
      'clickhouse',
      's3',
      'dataset',
      'training',
      'registry',
      'inference',
      'feedback',
      'model-server-1',
      'model-server-2',
      'edge',
    ]) {
      expect(status.stdout).toMatch(new RegExp(`^${name}\\s.*\\sready\\s`, 'm'))
    }
    const json = JSON.parse((await run('status', '--json')).stdout) as {
      allReady: boolean
      parts: unknown[]
    }
    expect(json.allReady).toBe(true)
    expect(json.parts).toHaveLength(12)
  })

  it('answers through the edge only with a valid token, from the service that owns the path', async () => {
    const anonymous = await fetch(`${edge}/v1/runs`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/)

    const login = await run('login', '--role', 'user', '--subject', 'alice', '--print-only')
    expect(login.code, login.stderr).toBe(0)
    const token = login.stdout.trim()
    const badlySigned = forged(token)
    expect((await fetch(`${edge}/v1/runs`, { headers: bearer(badlySigned) })).status).toBe(401)

    // Training's own answers, reached through the edge with the token accepted.
    const owned = await fetch(`${edge}/v1/runs`, { headers: bearer(token) })
    expect(owned.status).toBe(200)
    expect(await owned.json()).toMatchObject({ items: [] })
    const missing = await fetch(`${edge}/v1/runs/no-such-run`, { headers: bearer(token) })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ status: 404 })

    const datasets = await fetch(`${edge}/v1/datasets`, { headers: bearer(token) })
    expect(datasets.status).toBe(200)

    // No service owns this path: the edge answers itself.
    const nowhere = await fetch(`${edge}/v9/nothing`, { headers: bearer(token) })
    expect(nowhere.status).toBe(404)
  })

  it('answers hostile requests to every operation of every service without a 500, refusing what it must, and no read model stops', async () => {
    const token = async (role: string) =>
      (
        await run('login', '--role', role, '--subject', `hostile-${role}`, '--print-only')
      ).stdout.trim()
    const tokens = { admin: await token('admin'), analyst: await token('analyst') }
    // Over every route's body limit (the largest is 16 MiB).
    const oversized = 'x'.repeat(30 << 20)
    const unsound: string[] = []
    let sent = 0
    for (const part of readState().processes.filter((p) => p.kind === 'service')) {
      const document = (await (await fetch(`${part.url}/docs/json`)).json()) as OpenApiDocument
      for (const request of hostileRequests(part.url, document, tokens, oversized)) {
        sent++
        const { what, method, url, headers, body } = request
        const answer = await fetch(url, { method, headers, ...(body ? { body } : {}) }).then(
          async (response) => {
            await response.arrayBuffer()
            return {
              status: response.status,
              contentType: response.headers.get('content-type') ?? '',
              retryAfter: response.headers.get('retry-after'),
            }
          },
          (error: unknown) => ({ status: 0, contentType: String(error), retryAfter: null }),
        )
        const wrong = judge(request, answer)
        if (wrong) unsound.push(`${part.name} ${method} ${url.slice(0, 120)} (${what}): ${wrong}`)
      }
    }
    expect(sent).toBeGreaterThan(1_000)
    expect(unsound).toEqual([])
    // Nothing above was written where a projection would stop on it.
    for (const path of ['/v1/datasets', '/v1/runs', '/v1/models', '/v1/monitors']) {
      const answer = await fetch(`${edge}${path}`, { headers: bearer(tokens.admin) })
      expect(answer.status, `${path}: ${await answer.clone().text()}`).toBe(200)
    }
  })

  it("exposes every service's and model server's metrics as promtool (Prometheus' own checker) accepts them", async () => {
    const parts = readState().processes.filter((p) => p.kind === 'service' && p.url)
    expect(parts.map((p) => p.name)).toEqual(
      expect.arrayContaining(['inference', 'model-server-1']),
    )
    for (const part of parts) {
      const metrics = await (await fetch(`${part.url}/metrics`)).text()
      expect(metrics, part.name).toMatch(/^# HELP /m)
      const checked = await new Promise<{ code: number; output: string }>((resolve) => {
        const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
          resolve({ code: error ? 1 : 0, output: stdout + stderr }),
        )
        child.stdin!.end(metrics)
      })
      expect(checked, part.name).toEqual({ code: 0, output: '' })
    }
  })

  it('stores a login for the other commands', async () => {
    const login = await run('login', '--role', 'admin', '--subject', 'ops')
    expect(login.code, login.stderr).toBe(0)
    expect(readFileSync(join(dataDir, 'token'), 'utf8').trim()).toBe(login.stdout.trim())
  })

  it('starts a service killed with SIGKILL again without anyone acting, and shows the restart', async () => {
    const datasetPid = readState().processes.find((p) => p.name === 'dataset')!.pid
    process.kill(datasetPid, 'SIGKILL')
    const parts = await waitForStatus(
      'dataset to be restarted and everything ready',
      (parts, allReady) => allReady && (parts.get('dataset')?.supervision?.restarts ?? 0) > 0,
    )
    expect(parts.get('dataset')!.pid).not.toBe(datasetPid)
    expect(parts.get('dataset')!.supervision).toMatchObject({ phase: 'running', restarts: 1 })

    const status = await run('status')
    expect(status.code, status.stdout).toBe(0)
    expect(status.stdout).toMatch(/^PART\s+KIND\s+PID\s+RESTARTS\s+STATE\s+URL$/m)
    expect(status.stdout).toMatch(/^dataset\s+service\s+\d+\s+1\s+ready\s/m)
    expect(status.stdout.trim().split('\n').at(-1)).toBe('all ready')
    // The edge reaches the new process, and the supervisor said what happened.
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim()
    expect((await fetch(`${edge}/v1/datasets`, { headers: bearer(token) })).status).toBe(200)
    expect(supervisorLog()).toContain(
      `dataset: pid ${datasetPid} ended on its own: killed by SIGKILL; starting it again in 1 s`,
    )
  })

  it('starts an infrastructure part killed with SIGKILL again, and the services carry on', async () => {
    const natsPid = readState().processes.find((p) => p.name === 'nats')!.pid
    process.kill(natsPid, 'SIGKILL')
    const parts = await waitForStatus(
      'nats to be restarted and everything ready',
      (parts, allReady) => allReady && (parts.get('nats')?.supervision?.restarts ?? 0) > 0,
    )
    expect(parts.get('nats')!.supervision).toMatchObject({ phase: 'running', restarts: 1 })
    expect(supervisorLog()).toContain(`nats: pid ${natsPid} ended on its own: killed by SIGKILL`)
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim()
    expect((await fetch(`${edge}/v1/datasets`, { headers: bearer(token) })).status).toBe(200)
  })

  it('reports a service that keeps crashing with its last log lines, until it can run again', async () => {
    // The registry is killed and its port taken: every restart then dies at once on listen.
    const registry = readState().processes.find((p) => p.name === 'registry')!
    const port = Number(new URL(registry.url).port)
    const sockets = new Set<Socket>()
    process.kill(registry.pid, 'SIGKILL')
    const squatter = await takePort(port, sockets)
    try {
      await waitForStatus(
        'the registry to be reported in a crash loop',
        (parts) => parts.get('registry')?.supervision?.crashLoop === true,
      )
      const status = await run('status')
      expect(status.code).toBe(1)
      expect(status.stdout).toMatch(
        /^registry\s+service\s+-\s+\d+\s+CRASH LOOP, (restarting (in \d+ m?s|now)|starting \(restart \d+\))\s/m,
      )
      // Its last words, under the table: why it cannot run.
      expect(status.stdout).toMatch(
        /^registry: restart \d+ failed: .*; last lines of .*registry\.log:$/m,
      )
      expect(status.stdout).toMatch(/^ {4}\| .*EADDRINUSE/m)
      expect(status.stdout.trim().split('\n').at(-1)).toBe('not ready: registry')
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => squatter.close(resolve))
    }
    const parts = await waitForStatus(
      'the registry to run again once its port is free',
      (parts, allReady) => allReady && parts.get('registry')?.supervision?.phase === 'running',
    )
    expect(parts.get('registry')!.supervision!.restarts).toBeGreaterThanOrEqual(2)
    expect(supervisorLog()).toMatch(/registry: running again \(pid \d+, restart \d+\)/)
  })

  it('stops everything on down, and a second up reuses the data', async () => {
    const first = readState()
    const pool = new pg.Pool({ connectionString: first.endpoints!.postgresUrl, max: 1 })
    await pool.query('create table e2e_marker (note text)')
    await pool.query(`insert into e2e_marker values ('kept')`)
    await pool.end()
    const token = readFileSync(join(dataDir, 'token'), 'utf8').trim()

    const down = await run('down')
    expect(down.code, down.stderr).toBe(0)
    const pids = [first.supervisorPid, ...first.processes.map((p) => p.pid)]
    expect(pids.filter(isAlive)).toEqual([])
    expect(serversOfDataDir()).toEqual([])
    expect((await run('status')).code).toBe(1)

    const again = await run('up', '--detach', '--port-base', String(base))
    expect(again.code, again.stderr).toBe(0)
    const second = readState()
    const reopened = new pg.Pool({ connectionString: second.endpoints!.postgresUrl, max: 1 })
    const { rows } = await reopened.query<{ note: string }>('select note from e2e_marker')
    await reopened.end()
    expect(rows).toEqual([{ note: 'kept' }])
    // Same dev secret: a token minted before the restart is still accepted.
    expect((await fetch(`${edge}/v1/datasets`, { headers: bearer(token) })).status).toBe(200)

    const logBefore = supervisorLog().length
    const finalDown = await run('down')
    expect(finalDown.code, finalDown.stderr).toBe(0)
    // A deliberate stop is never taken for a crash: nothing was started again.
    const stopping = supervisorLog().slice(logBefore)
    expect(stopping).toContain('SIGTERM: stopping the edge, the services, then the infrastructure')
    expect(stopping).not.toMatch(/ended on its own|running again/)
    expect([second.supervisorPid, ...second.processes.map((p) => p.pid)].filter(isAlive)).toEqual(
      [],
    )
    expect(serversOfDataDir()).toEqual([])
  })
})

describe('argmax up when a part cannot start', () => {
  const runIn = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        argmax,
        [...args, '--data-dir', failedDir],
        { timeout: 240_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
            stdout,
            stderr,
          }),
      )
    })

  it('refuses ports in use before starting anything', async () => {
    const base = await freePortBase()
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen(base + 1, '127.0.0.1', resolve))
    try {
      const up = await runIn('up', '--detach', '--port-base', String(base))
      expect(up.code).not.toBe(0)
      expect(up.stderr).toContain(`nats could not start: port ${base + 1} already in use`)
      expect(up.stderr).toMatch(/how to fix: .*--port-base/)
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it('names the part, the reason and the fix, and leaves nothing running', async () => {
    // A PostgreSQL data directory that is not one: the other parts start, then are stopped.
    mkdirSync(join(failedDir, 'postgres'), { recursive: true })
    writeFileSync(join(failedDir, 'postgres', 'PG_VERSION'), 'not a cluster\n')
    const up = await runIn('up', '--detach', '--port-base', String(await freePortBase()))
    expect(up.code).not.toBe(0)
    expect(up.stderr).toMatch(/postgres could not start: .+/)
    expect(up.stderr).toMatch(/how to fix: .+/)
    const status = await runIn('status')
    expect(status.code).toBe(1)
    expect(status.stdout).toMatch(/the last start failed: .*postgres could not start/s)
    const leftovers = readdirSync('/proc').filter((entry) => {
      try {
        return (
          /^\d+$/.test(entry) &&
          readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`ARGMAX_STACK_DIR=${failedDir}\0`)
        )
      } catch {
        return false
      }
    })
    expect(leftovers.filter((pid) => isAlive(Number(pid)))).toEqual([])
  })
})
