import { portsFromBase } from '../../src/stack/ports.ts'
import type { StackState } from '../../src/stack/state.ts'

/** A ready stack's state on ports from 30,000 (edge 30000), for tests of what reads it. */
export function readyStackState(dataDir: string, overrides: Partial<StackState> = {}): StackState {
  return {
    version: 1,
    supervisorPid: 7,
    dataDir,
    status: 'ready',
    startedAt: '2026-01-01T00:00:00.000Z',
    ports: portsFromBase(30_000),
    edgeUrl: 'http://127.0.0.1:30000',
    processes: [],
    ...overrides,
  }
}
