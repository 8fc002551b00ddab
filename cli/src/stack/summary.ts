import type { ProcessHealth } from './health.ts'
import type { StackState } from './state.ts'
import { formatDuration } from './supervised-part.ts'

/** What `argmax up` prints once everything is ready: every endpoint, the logs, a token. */
export function formatReadySummary(
  state: StackState,
  adminToken: string,
  tokenTtl: string,
): string {
  const rows: Array<[string, string]> = [
    [
      'edge (REST)',
      `${state.edgeUrl}  → /v1/datasets /v1/runs /v1/pipelines /v1/models /v1/batch-predictions /v1/feedback /v2`,
    ],
  ]
  if (state.grpcAddress) {
    rows.push([
      'inference gRPC',
      `${state.grpcAddress}  (KServe v2 / Triton clients; argmax predict)`,
    ])
  }
  for (const p of state.processes) {
    if (p.kind === 'edge') continue
    const extra = p.kind === 'service' ? `  (docs ${p.url}/docs, metrics ${p.url}/metrics)` : ''
    rows.push([p.name, `${p.url}${extra}`])
  }
  if (state.endpoints) {
    const e = state.endpoints
    rows.push(
      [
        'clickhouse SQL',
        `${e.clickhouseUrl} as ${e.clickhouseAnalystUser}/${e.clickhouseAnalystPassword} (read-only, database ${e.clickhouseDatabase})`,
      ],
      [
        '',
        `clickhouse-client --port ${e.clickhouseNativePort} --user ${e.clickhouseAnalystUser} --password ${e.clickhouseAnalystPassword} --database ${e.clickhouseDatabase}`,
      ],
    )
  }
  rows.push(
    ['data', state.dataDir],
    ['logs', `${state.dataDir}/logs/`],
    ['state', `${state.dataDir}/run/state.json`],
  )
  const width = Math.max(...rows.map(([name]) => name.length))
  return [
    `Argmax is up (supervisor pid ${state.supervisorPid}).`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
    '',
    `Dev admin token (valid ${tokenTtl}; 'argmax login' mints others):`,
    adminToken,
    '',
    `Try: curl -H "authorization: Bearer $(cat ${shellWord(`${state.dataDir}/token`)})" ${state.edgeUrl}/v1/datasets`,
  ].join('\n')
}

/** A path as one word a POSIX shell reads back unchanged (a checkout may have spaces in it). */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`
}

/**
 * The table `argmax status` prints, closed by "all ready" or the list of what is not. A part
 * that died says how and when it is started again, with its last log lines below the table.
 */
export function formatStatusTable(health: ProcessHealth[], now: Date = new Date()): string {
  const header = ['PART', 'KIND', 'PID', 'RESTARTS', 'STATE', 'URL']
  const rows = health.map((h) => [
    h.name,
    h.kind,
    betweenRuns(h) ? '-' : String(h.pid),
    h.supervision ? String(h.supervision.restarts) : '-',
    stateOf(h, now),
    h.url,
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const notReady = health.filter((h) => !h.ready)
  const crashes = notReady.flatMap((h) => {
    const exit = h.supervision?.lastExit
    if (!exit) return []
    return [
      '',
      `${h.name}: ${exit.reason} (${exit.at}); last lines of ${h.logFile}:`,
      ...(exit.logTail.length > 0 ? exit.logTail : ['(no log output)']).map((l) => `    | ${l}`),
    ]
  })
  return [
    line(header),
    ...rows.map(line),
    ...crashes,
    notReady.length === 0 ? 'all ready' : `not ready: ${notReady.map((h) => h.name).join(', ')}`,
  ].join('\n')
}

/** Dead and not yet started again: the recorded pid is the dead process's. */
function betweenRuns(h: ProcessHealth): boolean {
  return h.supervision?.phase === 'backoff' || h.supervision?.phase === 'starting'
}

function stateOf(h: ProcessHealth, now: Date): string {
  const supervision = h.supervision
  if (supervision?.phase === 'backoff') {
    const due = supervision.nextStartAt ? Date.parse(supervision.nextStartAt) : now.getTime()
    // Due already: the supervisor is about to start it (or this reading is a moment old).
    const wait = due > now.getTime() ? `in ${formatDuration(due - now.getTime())}` : 'now'
    return supervision.crashLoop
      ? `CRASH LOOP, restarting ${wait}`
      : `RESTARTING ${wait} (${supervision.lastExit?.reason ?? 'it died'})`
  }
  if (supervision?.phase === 'starting') {
    return `${supervision.crashLoop ? 'CRASH LOOP' : 'RESTARTING'}, starting (restart ${supervision.restarts})`
  }
  return h.ready ? 'ready' : `NOT READY (${h.detail ?? 'unknown'})`
}
