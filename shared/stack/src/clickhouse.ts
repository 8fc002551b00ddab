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
  await waitUntilHealthy('clickhouse', server, async () => (await fetch(`${url}/ping`)).ok, {
    logFile,
    timeoutMs: 90_000,
    hint: `check that ports ${httpPort}/${tcpPort} are free and clickhouse-server is installed (apt-get install clickhouse-server)`,
  })
  return {
    name: 'clickhouse',
    pid: server.child.pid!,
    exited: server.exited,
    url,
    logFile,
    stop: () => server.stop(30_000),
  }
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

// The analyst profile is read-only with execution-time and memory limits (DESIGN: security).
function usersConfig(): string {
  const { writer, analyst } = clickhouseCredentials
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
      <max_execution_time>30</max_execution_time>
      <max_memory_usage>1000000000</max_memory_usage>
      <max_result_rows>1000000</max_result_rows>
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
