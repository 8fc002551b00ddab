import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnServer, waitUntilHealthy, type RunningPart } from './process.ts'

export interface ClickhouseOptions {
  dataDir: string
  httpPort: number
  tcpPort: number
}

/** The writer (services) and the read-only analyst accounts of the local ClickHouse. */
export const clickhouseCredentials = {
  writer: { user: 'default', password: 'argmax' },
  analyst: { user: 'analyst', password: 'analyst' },
}

/** The platform's database (prediction log, feedback, their views): the only one analysts see. */
export const clickhouseDatabase = 'argmax'

/**
 * The analyst's limits, per query: readonly=1 (no write, no DDL, no SET, no table functions,
 * and no setting overridden — over HTTP an override is refused, over the native protocol it is
 * ignored), 30 s of execution, 1 GB of memory, a million result rows.
 */
export const analystLimits = {
  maxExecutionSeconds: 30,
  maxMemoryBytes: 1_000_000_000,
  maxResultRows: 1_000_000,
}

/**
 * ClickHouse from Debian's package (18.16 on this machine kind) with a private config: data,
 * logs and ports of its own, so it never touches /var/lib/clickhouse or a system service.
 */
export async function startClickhouse({
  dataDir,
  httpPort,
  tcpPort,
}: ClickhouseOptions): Promise<RunningPart> {
  const home = join(dataDir, 'clickhouse')
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) {
    mkdirSync(join(home, sub), { recursive: true })
  }
  const logFile = join(dataDir, 'logs', 'clickhouse.log')
  const configFile = join(home, 'config.xml')
  writeFileSync(configFile, serverConfig(home, dataDir, httpPort, tcpPort))
  writeFileSync(join(home, 'users.xml'), usersConfig())
  const server = spawnServer('clickhouse-server', [`--config-file=${configFile}`], {
    logFile,
    cwd: home,
  })
  const url = `http://127.0.0.1:${httpPort}`
  await waitUntilHealthy(
    'clickhouse',
    server,
    async () => (await fetch(`${url}/ping`)).ok && (await ensureDatabase(url)),
    {
      logFile,
      timeoutMs: 90_000,
      hint: `check that ports ${httpPort}/${tcpPort} are free and clickhouse-server is installed (apt-get install clickhouse-server)`,
    },
  )
  return {
    name: 'clickhouse',
    pid: server.child.pid!,
    exited: server.exited,
    url,
    logFile,
    stop: () => server.stop(30_000),
  }
}

/** Creates the platform's database when it is not there yet (first start, or a wiped dir). */
async function ensureDatabase(url: string): Promise<boolean> {
  const { user, password } = clickhouseCredentials.writer
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'x-clickhouse-user': user, 'x-clickhouse-key': password },
    body: `CREATE DATABASE IF NOT EXISTS ${clickhouseDatabase}`,
  })
  if (response.ok) {
    await response.body?.cancel()
    return true
  }
  throw new Error(`creating database ${clickhouseDatabase}: ${(await response.text()).trim()}`)
}

function serverConfig(home: string, dataDir: string, httpPort: number, tcpPort: number): string {
  const logs = join(dataDir, 'logs')
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${logs}/clickhouse-server.log</log>
    <errorlog>${logs}/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${home}/data/</path>
  <tmp_path>${home}/tmp/</tmp_path>
  <user_files_path>${home}/user_files/</user_files_path>
  <format_schema_path>${home}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
`
}

// The analyst profile is read-only with execution-time and memory limits (DESIGN: security),
// and the analyst sees only the platform's database (and `system`, which ClickHouse always
// allows: metadata and the running queries, not other databases' rows).
function usersConfig(): string {
  const { writer, analyst } = clickhouseCredentials
  const limits = analystLimits
  const loopback = '<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>'
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
    <analyst>
      <readonly>1</readonly>
      <max_execution_time>${limits.maxExecutionSeconds}</max_execution_time>
      <max_memory_usage>${limits.maxMemoryBytes}</max_memory_usage>
      <max_result_rows>${limits.maxResultRows}</max_result_rows>
    </analyst>
  </profiles>
  <users>
    <${writer.user}>
      <password>${writer.password}</password>
      ${loopback}
      <profile>default</profile>
      <quota>default</quota>
    </${writer.user}>
    <${analyst.user}>
      <password>${analyst.password}</password>
      ${loopback}
      <profile>analyst</profile>
      <quota>analyst</quota>
      <allow_databases><database>${clickhouseDatabase}</database></allow_databases>
      <!-- Honoured by current servers; 18.16 ignores it (its default stays 'default'). -->
      <default_database>${clickhouseDatabase}</default_database>
    </${analyst.user}>
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default>
    <analyst>
      <interval><duration>3600</duration><queries>10000</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>3600</execution_time></interval>
    </analyst>
  </quotas>
</yandex>
`
}
