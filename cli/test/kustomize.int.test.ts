import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { analystLimits, clickhouseDatabase } from '@argmax/stack'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { repoRoot } from '../src/stack/paths.ts'
import { routeFor } from '../src/stack/edge-routes.ts'

interface K8sObject {
  kind: string
  metadata: { name: string; namespace?: string }
  spec?: Record<string, unknown>
  data?: Record<string, string>
}

const services = ['dataset', 'training', 'registry', 'inference', 'feedback']

function render(overlay: string): K8sObject[] {
  const output = execFileSync(
    'kubectl',
    ['kustomize', join(repoRoot, 'deploy/kustomize/overlays', overlay)],
    {
      encoding: 'utf8',
    },
  )
  return parseAllDocuments(output).map((doc) => doc.toJS() as K8sObject)
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind)
const named = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find(
    (o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)),
  )
  if (!found) throw new Error(`no ${kind} ${name}`)
  return found
}

interface Container {
  args: string[]
  readinessProbe: { httpGet: { path: string; port: string } }
  livenessProbe: { httpGet: { path: string; port: string } }
  envFrom: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>
  resources: { limits?: Record<string, string> }
}
const podSpec = (deployment: K8sObject) =>
  (
    deployment.spec as {
      template: { spec: { containers: Container[]; serviceAccountName?: string } }
    }
  ).template.spec

describe.each(['dev', 'prod', 'gpu'])('kustomize overlay %s', (overlay) => {
  const objects = render(overlay)
  const namespace = overlay === 'dev' ? 'argmax-dev' : 'argmax'

  it('renders a Deployment and a Service per service, all in one namespace', () => {
    expect(
      byKind(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([...services].sort())
    expect(
      byKind(objects, 'Service')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([...services].sort())
    expect(named(objects, 'Namespace', namespace)).toBeDefined()
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(namespace)
    }
  })

  it('probes readiness on /readyz and liveness on /healthz, and runs each service entry point', () => {
    for (const name of services) {
      const [container] = podSpec(named(objects, 'Deployment', name)).containers
      expect(container?.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' })
      expect(container?.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' })
      expect(container?.args).toEqual([`services/${name}/src/main.ts`])
    }
  })

  it('configures every service from the generated ConfigMap and the credentials Secret', () => {
    const config = named(objects, 'ConfigMap', 'argmax-config')
    for (const name of services) {
      const envFrom = podSpec(named(objects, 'Deployment', name)).containers[0]!.envFrom
      expect(envFrom).toContainEqual({ configMapRef: { name: config.metadata.name } })
      expect(envFrom).toContainEqual({ secretRef: { name: 'argmax-credentials' } })
    }
    expect(config.data?.['ARGMAX_AUTH_MODE']).toBe(overlay === 'dev' ? 'hs256' : 'oidc')
    expect(config.data?.['ARGMAX_STREAM_REPLICAS']).toBe(overlay === 'dev' ? '1' : '3')
  })

  it('sets the replicas of the overlay', () => {
    const replicas = Object.fromEntries(
      byKind(objects, 'Deployment').map((d) => [
        d.metadata.name,
        (d.spec as { replicas: number }).replicas,
      ]),
    )
    if (overlay === 'dev') expect(Object.values(replicas)).toEqual([1, 1, 1, 1, 1])
    else {
      expect(replicas).toEqual({ dataset: 2, training: 2, registry: 2, inference: 3, feedback: 2 })
      expect(byKind(objects, 'PodDisruptionBudget')).toHaveLength(services.length)
    }
  })

  it('routes the public paths to the same services as the local edge', () => {
    const ingress = named(objects, 'Ingress', 'argmax')
    const paths = (
      ingress.spec as {
        rules: Array<{
          http: { paths: Array<{ path: string; backend: { service: { name: string } } }> }
        }>
      }
    ).rules[0]!.http.paths
    const target = (path: string) => paths.find((p) => p.path === path)?.backend.service.name
    const examples: Array<[string, string]> = [
      ['/v1/datasets', '/v1/datasets'],
      ['/v1/runs', '/v1/runs'],
      ['/v1/pipelines', '/v1/pipelines'],
      ['/v1/models', '/v1/models/movies'],
      ['/v1/models/[^/]+:predict$', '/v1/models/movies:predict'],
      ['/v2/', '/v2/models/movies/infer'],
      ['/v1/feedback', '/v1/feedback'],
      ['/v1/quality', '/v1/quality/movies'],
      ['/v1/monitors', '/v1/monitors/alertmanager'],
    ]
    for (const [ingressPath, url] of examples)
      expect(target(ingressPath), ingressPath).toBe(routeFor(url))
    expect(paths).toHaveLength(examples.length)
  })

  it('provisions the ClickHouse analyst as the local stack does: read-only, limited, one database', () => {
    const users = named(objects, 'ConfigMap', 'clickhouse-users')
    expect(users.metadata.name).toBe('clickhouse-users')
    const xml = users.data?.['argmax-users.xml'] ?? ''
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml) as {
      clickhouse: {
        profiles: { analyst: Record<string, string> }
        users: Record<
          string,
          {
            password: { '@_from_env': string }
            profile: string
            quota: string
            allow_databases?: { database: string }
          }
        >
        quotas: { analyst: unknown }
      }
    }
    const { profiles, users: accounts, quotas } = parsed.clickhouse
    expect(profiles.analyst).toEqual({
      readonly: '1',
      max_execution_time: String(analystLimits.maxExecutionSeconds),
      max_memory_usage: String(analystLimits.maxMemoryBytes),
      max_result_rows: String(analystLimits.maxResultRows),
    })
    expect(accounts['analyst']).toMatchObject({
      profile: 'analyst',
      quota: 'analyst',
      allow_databases: { database: clickhouseDatabase },
      password: { '@_from_env': 'ARGMAX_CLICKHOUSE_ANALYST_PASSWORD' },
    })
    expect(quotas.analyst).toBeDefined()
    // The writer the services log in as (config.env), its password from the environment too.
    const config = named(objects, 'ConfigMap', 'argmax-config')
    const writer = accounts[config.data?.['ARGMAX_CLICKHOUSE_USER'] ?? '']
    expect(writer?.password).toEqual({ '@_from_env': 'ARGMAX_CLICKHOUSE_PASSWORD' })
    expect(writer?.profile).toBe('default')
    // No password is written into the ConfigMap.
    expect(xml).not.toMatch(/<password(_sha256_hex)?>/)
  })

  it('ships the monitoring configuration: scrape jobs for every Service, the tested rules, the webhook route, the dashboard', () => {
    const config = parseAllDocuments(
      named(objects, 'ConfigMap', 'prometheus-config').data!['prometheus.yml']!,
    )[0]!.toJS() as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>
    }
    const servicePorts = Object.fromEntries(
      byKind(objects, 'Service').map((s) => [
        s.metadata.name,
        (s.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port),
      ]),
    )
    expect(config.scrape_configs.map((job) => job.job_name)).toEqual(services)
    for (const job of config.scrape_configs) {
      const [host, port] = job.static_configs[0]!.targets[0]!.split(':')
      expect(servicePorts[host!], job.job_name).toContain(Number(port))
    }
    // The rules are the very files promtool tests (deploy/prometheus/tests).
    const rules = named(objects, 'ConfigMap', 'prometheus-rules').data!
    for (const file of ['model-quality.rules.yml', 'model-thresholds.rules.yml']) {
      expect(rules[file], file).toBe(
        readFileSync(join(repoRoot, 'deploy/prometheus/rules', file), 'utf8'),
      )
    }
    expect(rules['model-quality.rules.yml']).toContain('alert: ModelDriftDetected')
    const alertmanager = named(objects, 'ConfigMap', 'alertmanager-config').data![
      'alertmanager.yml'
    ]!
    expect(alertmanager).toContain('http://feedback/v1/monitors/alertmanager')
    expect(routeFor('/v1/monitors/alertmanager')).toBe('feedback')
    const dashboard = named(objects, 'ConfigMap', 'grafana-dashboard-argmax') as K8sObject & {
      metadata: { labels?: Record<string, string> }
    }
    expect(dashboard.metadata.labels?.['grafana_dashboard']).toBe('1')
    expect(JSON.parse(dashboard.data!['argmax-model-quality.json']!)).toHaveProperty('panels')
    for (const name of ['prometheus-config', 'prometheus-rules', 'alertmanager-config']) {
      expect(named(objects, 'ConfigMap', name).metadata.namespace).toBe(namespace)
    }
  })

  it(
    overlay === 'gpu'
      ? 'runs training attempts as Jobs on GPU nodes'
      : 'runs training attempts locally',
    () => {
      const runner = named(objects, 'ConfigMap', 'training-runner')
      const training = podSpec(named(objects, 'Deployment', 'training'))
      expect(training.containers[0]!.envFrom).toContainEqual({
        configMapRef: { name: runner.metadata.name },
      })
      if (overlay !== 'gpu') {
        expect(runner.data?.['ARGMAX_TRAINING_RUNNER']).toBe('local')
        expect(byKind(objects, 'Role')).toHaveLength(0)
        return
      }
      expect(runner.data?.['ARGMAX_TRAINING_RUNNER']).toBe('kubernetes')
      expect(runner.data?.['ARGMAX_TRAINING_GPU_RESOURCE']).toBe('nvidia.com/gpu')
      expect(JSON.parse(runner.data?.['ARGMAX_TRAINING_GPU_TOLERATIONS'] ?? '[]')).toContainEqual({
        key: 'nvidia.com/gpu',
        operator: 'Exists',
        effect: 'NoSchedule',
      })
      expect(JSON.parse(runner.data?.['ARGMAX_TRAINING_GPU_NODE_SELECTOR'] ?? '{}')).toEqual({
        'nvidia.com/gpu.present': 'true',
      })
      expect(training.serviceAccountName).toBe('training')
      const role = named(objects, 'Role', 'training-runner') as unknown as {
        rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>
      }
      expect(role.rules).toContainEqual({
        apiGroups: ['batch'],
        resources: ['jobs'],
        verbs: ['create', 'get', 'list', 'watch', 'delete'],
      })
      expect(named(objects, 'RoleBinding', 'training-runner')).toBeDefined()
    },
  )
})
