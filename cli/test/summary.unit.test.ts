import { describe, expect, it } from 'vitest'
import type { ProcessHealth } from '../src/stack/health.ts'
import { portsFromBase } from '../src/stack/ports.ts'
import type { StackState } from '../src/stack/state.ts'
import { formatReadySummary, formatStatusTable } from '../src/stack/summary.ts'

const health = (name: string, ready: boolean, detail?: string): ProcessHealth => ({
  name,
  kind: 'service',
  pid: 42,
  url: `http://127.0.0.1:1/${name}`,
  alive: ready,
  ready,
  ...(detail ? { detail } : {}),
})

describe('formatStatusTable', () => {
  it('ends with "all ready" when every part is ready', () => {
    const table = formatStatusTable([health('nats', true), health('dataset', true)])
    expect(table.split('\n').at(-1)).toBe('all ready')
    expect(table).toMatch(/^PART\s+KIND\s+PID\s+STATE\s+URL$/m)
  })

  it('names what is not ready, and why', () => {
    const table = formatStatusTable([health('nats', true), health('registry', false, 'HTTP 503')])
    expect(table).toContain('NOT READY (HTTP 503)')
    expect(table.split('\n').at(-1)).toBe('not ready: registry')
  })
})

describe('formatReadySummary', () => {
  it('prints every endpoint, the data dir and the token', () => {
    const state: StackState = {
      version: 1,
      supervisorPid: 7,
      dataDir: '/tmp/x/.argmax',
      status: 'ready',
      startedAt: '2026-01-01T00:00:00.000Z',
      ports: portsFromBase(30_000),
      edgeUrl: 'http://127.0.0.1:30000',
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
    }
    const text = formatReadySummary(state, 'eyJ.token', '12h')
    expect(text).toContain('http://127.0.0.1:30000')
    expect(text).toContain('nats://127.0.0.1:30001')
    expect(text).toContain('http://127.0.0.1:30010/docs')
    expect(text).toContain('/tmp/x/.argmax/logs/')
    expect(text).toContain('eyJ.token')
  })
})
