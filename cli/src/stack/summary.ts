import type { ProcessHealth } from './health.ts'
import type { StackState } from './state.ts'

/** What `argmax up` prints once everything is ready: every endpoint, the logs, a token. */
export function formatReadySummary(
  state: StackState,
  adminToken: string,
  tokenTtl: string,
): string {
  const rows: Array<[string, string]> = [
    [
      'edge (REST)',
      `${state.edgeUrl}  → /v1/datasets /v1/runs /v1/pipelines /v1/models /v1/feedback /v2`,
    ],
  ]
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
    `Try: curl -H "authorization: Bearer $(cat ${state.dataDir}/token)" ${state.edgeUrl}/v1/datasets`,
  ].join('\n')
}

/** The table `argmax status` prints, closed by "all ready" or the list of what is not. */
export function formatStatusTable(health: ProcessHealth[]): string {
  const header = ['PART', 'KIND', 'PID', 'STATE', 'URL']
  const rows = health.map((h) => [
    h.name,
    h.kind,
    String(h.pid),
    h.ready ? 'ready' : `NOT READY (${h.detail ?? 'unknown'})`,
    h.url,
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const notReady = health.filter((h) => !h.ready).map((h) => h.name)
  return [
    line(header),
    ...rows.map(line),
    notReady.length === 0 ? 'all ready' : `not ready: ${notReady.join(', ')}`,
  ].join('\n')
}
