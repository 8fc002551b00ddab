import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, spawnServer, waitUntilHealthy, type SpawnedServer } from '@argmax/stack'
import { parse, stringify } from 'yaml'

export const DEPLOY = fileURLToPath(new URL('../../../../deploy/', import.meta.url))
export const PROMETHEUS_DIR = join(DEPLOY, 'prometheus')

export interface Monitoring {
  prometheusUrl: string
  alertmanagerUrl: string
  /** An instant PromQL query; throws on an error answer. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>
  stop(): Promise<void>
}

interface PrometheusConfig {
  global: Record<string, string>
  rule_files: string[]
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> }
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>
}

interface AlertmanagerConfig {
  route: Record<string, unknown>
  receivers: Array<{
    name: string
    webhook_configs?: Array<{
      url: string
      http_config: { authorization: { credentials_file: string } }
    }>
  }>
}

/**
 * Debian's Prometheus and Alertmanager, configured from the files shipped in deploy/prometheus:
 * the same scrape jobs with their targets pointed at the processes of this test (`targets`:
 * job → host:port; a job without one points at a closed port and is simply down), the same rule
 * files (with the alert's `for` shortened to `forSeconds`, since a test cannot wait 5 minutes —
 * promtool's unit test checks the real 5), and the same Alertmanager route with the feedback
 * webhook's URL and its bearer credential.
 */
export async function startMonitoring(options: {
  targets: Record<string, string>
  feedbackUrl: string
  feedbackToken: string
  forSeconds: number
}): Promise<Monitoring> {
  const dir = mkdtempSync(join(tmpdir(), 'argmax-monitoring-'))
  const [promPort, amPort, closed] = await Promise.all([freePort(), freePort(), freePort()])

  mkdirSync(join(dir, 'rules'))
  for (const file of readdirSync(join(PROMETHEUS_DIR, 'rules'))) {
    const text = readFileSync(join(PROMETHEUS_DIR, 'rules', file), 'utf8')
    writeFileSync(join(dir, 'rules', file), text.replace(/for: 5m/g, `for: ${options.forSeconds}s`))
  }
  const prometheus = parse(
    readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8'),
  ) as PrometheusConfig
  prometheus.global = { scrape_interval: '1s', evaluation_interval: '1s' }
  prometheus.rule_files = [join(dir, 'rules', '*.yml')]
  prometheus.alerting.alertmanagers = [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }]
  for (const job of prometheus.scrape_configs) {
    job.static_configs = [{ targets: [options.targets[job.job_name] ?? `127.0.0.1:${closed}`] }]
  }
  writeFileSync(join(dir, 'prometheus.yml'), stringify(prometheus))

  const tokenFile = join(dir, 'feedback-token')
  writeFileSync(tokenFile, options.feedbackToken)
  const alertmanager = parse(
    readFileSync(join(PROMETHEUS_DIR, 'alertmanager.yml'), 'utf8'),
  ) as AlertmanagerConfig
  Object.assign(alertmanager.route, { group_wait: '1s', group_interval: '1s' })
  for (const receiver of alertmanager.receivers) {
    for (const hook of receiver.webhook_configs ?? []) {
      hook.url = `${options.feedbackUrl}/v1/monitors/alertmanager`
      hook.http_config.authorization.credentials_file = tokenFile
    }
  }
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(alertmanager))

  const started: SpawnedServer[] = []
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop(5_000)))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const am = spawnServer(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ],
      { logFile: join(dir, 'alertmanager.log') },
    )
    started.push(am)
    const alertmanagerUrl = `http://127.0.0.1:${amPort}`
    await waitUntilHealthy(
      'alertmanager',
      am,
      async () => (await fetch(`${alertmanagerUrl}/-/ready`)).ok,
      {
        logFile: join(dir, 'alertmanager.log'),
        hint: 'apt-get install prometheus-alertmanager (scripts/bootstrap.sh)',
        timeoutMs: 30_000,
      },
    )
    const prom = spawnServer(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { logFile: join(dir, 'prometheus.log') },
    )
    started.push(prom)
    const prometheusUrl = `http://127.0.0.1:${promPort}`
    await waitUntilHealthy(
      'prometheus',
      prom,
      async () => (await fetch(`${prometheusUrl}/-/ready`)).ok,
      {
        logFile: join(dir, 'prometheus.log'),
        hint: 'apt-get install prometheus (scripts/bootstrap.sh)',
        timeoutMs: 30_000,
      },
    )
    return {
      prometheusUrl,
      alertmanagerUrl,
      async query(expr) {
        const answer = await fetch(
          `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
        const body = (await answer.json()) as {
          status: string
          error?: string
          data: { resultType: string; result: unknown }
        }
        if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`)
        if (body.data.resultType === 'scalar') return []
        return body.data.result as Array<{
          metric: Record<string, string>
          value: [number, string]
        }>
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
