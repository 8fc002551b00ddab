import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ProcessHealth } from '../src/stack/health.ts'
import { formatReadySummary, formatStatusTable } from '../src/stack/summary.ts'
import { readyStackState } from './support/stack-state.ts'

const health = (name: string, ready: boolean, detail?: string): ProcessHealth => ({
  name,
  kind: 'service',
  pid: 42,
  url: `http://127.0.0.1:1/${name}`,
  alive: ready,
  ready,
  ...(detail ? { detail } : {}),
  logFile: `/tmp/x/.argmax/logs/${name}.log`,
})

describe('formatStatusTable', () => {
  it('ends with "all ready" when every part is ready', () => {
    const table = formatStatusTable([health('nats', true), health('dataset', true)])
    expect(table.split('\n').at(-1)).toBe('all ready')
    expect(table).toMatch(/^PART\s+KIND\s+PID\s+RESTARTS\s+STATE\s+URL$/m)
  })

  it('names what is not ready, and why', () => {
    const table = formatStatusTable([health('nats', true), health('registry', false, 'HTTP 503')])
    expect(table).toContain('NOT READY (HTTP 503)')
    expect(table.split('\n').at(-1)).toBe('not ready: registry')
  })

  const now = new Date('2026-01-01T12:00:00.000Z')
  const lastExit = {
    at: '2026-01-01T11:59:58.000Z',
    reason: 'pid 42 ended on its own: killed by SIGKILL',
    logTail: ['{"level":50,"msg":"listen EADDRINUSE"}'],
  }

  it("shows each part's restarts, and a restarted part as ready again", () => {
    const table = formatStatusTable(
      [
        {
          ...health('dataset', true),
          supervision: { phase: 'running', restarts: 2, crashLoop: false, lastExit },
        },
        {
          ...health('nats', true),
          supervision: { phase: 'running', restarts: 0, crashLoop: false },
        },
        { ...health('edge', true) },
      ],
      now,
    )
    expect(table).toMatch(/^dataset\s+service\s+42\s+2\s+ready\s/m)
    expect(table).toMatch(/^nats\s+service\s+42\s+0\s+ready\s/m)
    expect(table).toMatch(/^edge\s+service\s+42\s+-\s+ready\s/m)
    expect(table).not.toContain('EADDRINUSE')
    expect(table.split('\n').at(-1)).toBe('all ready')
  })

  it('shows a part waiting to be restarted, with how it died and its last log lines', () => {
    const waiting = {
      ...health('dataset', false, 'being restarted'),
      supervision: {
        phase: 'backoff' as const,
        restarts: 0,
        crashLoop: false,
        lastExit,
        nextStartAt: '2026-01-01T12:00:01.000Z',
      },
    }
    const table = formatStatusTable([waiting], now)
    expect(table).toContain('RESTARTING in 1 s (pid 42 ended on its own: killed by SIGKILL)')
    expect(table).toContain(
      'dataset: pid 42 ended on its own: killed by SIGKILL (2026-01-01T11:59:58.000Z); last lines of /tmp/x/.argmax/logs/dataset.log:',
    )
    expect(table).toContain('    | {"level":50,"msg":"listen EADDRINUSE"}')
    expect(table.split('\n').at(-1)).toBe('not ready: dataset')
  })

  it('says CRASH LOOP for a part that keeps crashing, and when it is tried again', () => {
    const looping = {
      ...health('registry', false, 'being restarted'),
      supervision: {
        phase: 'backoff' as const,
        restarts: 3,
        crashLoop: true,
        lastExit: { ...lastExit, reason: 'restart 3 failed: registry could not start' },
        nextStartAt: '2026-01-01T12:00:20.000Z',
      },
    }
    const table = formatStatusTable([looping], now)
    expect(table).toMatch(/^registry\s+service\s+-\s+3\s+CRASH LOOP, restarting in 20 s\s/m)
    expect(table).toContain('registry: restart 3 failed: registry could not start')
    const starting = {
      ...looping,
      supervision: { ...looping.supervision, phase: 'starting' as const, restarts: 4 },
    }
    expect(formatStatusTable([starting], now)).toContain('CRASH LOOP, starting (restart 4)')
    const due = new Date('2026-01-01T12:00:21.000Z')
    expect(formatStatusTable([looping], due)).toContain('CRASH LOOP, restarting now')
  })
})

describe('formatReadySummary', () => {
  it('prints every endpoint, the data dir and the token', () => {
    const state = readyStackState('/tmp/x/.argmax', {
      processes: [
        {
          name: 'nats',
          kind: 'infra',
          pid: 1,
          url: 'nats://127.0.0.1:30001',
          health: { kind: 'http', url: 'x' },
          logFile: 'l',
        },
        {
          name: 'dataset',
          kind: 'service',
          pid: 2,
          url: 'http://127.0.0.1:30010',
          health: { kind: 'http', url: 'x' },
          logFile: 'l',
        },
      ],
    })
    const text = formatReadySummary(state, 'eyJ.token', '12h')
    expect(text).toContain('http://127.0.0.1:30000')
    expect(text).toContain('nats://127.0.0.1:30001')
    expect(text).toContain('http://127.0.0.1:30010/docs')
    expect(text).toContain('/tmp/x/.argmax/logs/')
    expect(text).toContain('eyJ.token')
  })

  it('names the token file so a shell reads it back, from a directory with a space and a quote in its name', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "it's mine ")), '.argmax')
    mkdirSync(dataDir)
    writeFileSync(join(dataDir, 'token'), 'eyJ.stored')
    const state = readyStackState(dataDir)
    try {
      const word = /\$\(cat (.+)\)"/.exec(formatReadySummary(state, 'eyJ.token', '12h'))![1]!
      expect(execFileSync('/bin/sh', ['-c', `cat ${word}`]).toString()).toBe('eyJ.stored')
    } finally {
      rmSync(dirname(dataDir), { recursive: true, force: true })
    }
  })
})
