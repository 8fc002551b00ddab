import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { analystLimits, clickhouseDatabase } from '@argmax/stack'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { repoRoot } from '../src/stack/paths.ts'
import { routeFor } from '../src/stack/edge-routes.ts'
// The training runner's own parser: the overlay's settings must be what the service accepts.
import { loadKubernetesRunnerSettings } from '../../services/training/src/runners/kubernetes/kubernetes.settings.ts'

interface K8sObject {
  kind: string
  metadata: { name: string; namespace?: string }
  spec?: Record<string, unknown>
  data?: Record<string, string>
  automountServiceAccountToken?: boolean
}

interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
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
  image: string
}
const podSpec = (deployment: K8sObject) =>
  (
    deployment.spec as {
      template: {
        spec: {
          containers: Container[]
          serviceAccountName?: string
          automountServiceAccountToken?: boolean
        }
      }
    }
  ).template.spec

/** Where the gpu overlay runs training attempts (the runner's ARGMAX_TRAINING_JOB_NAMESPACE). */
const jobsNamespace = 'argmax-training-jobs'
/** What the training-jobs namespace holds: its guards and the training service's rights. */
const jobsNamespaceKinds = ['LimitRange', 'NetworkPolicy', 'ResourceQuota', 'Role', 'RoleBinding']

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
      const where = `${object.kind} ${object.metadata.name}`
      if (overlay === 'gpu' && object.metadata.namespace === jobsNamespace) {
        expect(jobsNamespaceKinds, where).toContain(object.kind)
      } else expect(object.metadata.namespace, where).toBe(namespace)
    }
    expect(
      byKind(objects, 'Namespace')
        .map((n) => n.metadata.name)
        .sort(),
    ).toEqual(overlay === 'gpu' ? [namespace, jobsNamespace] : [namespace])
  })

  it('runs training under its own ServiceAccount, with namespaced RBAC only', () => {
    const account = named(objects, 'ServiceAccount', 'training')
    expect(account.metadata.namespace).toBe(namespace)
    const training = podSpec(named(objects, 'Deployment', 'training'))
    expect(training.serviceAccountName).toBe('training')
    // Nothing cluster-wide, in any overlay.
    expect(byKind(objects, 'ClusterRole')).toEqual([])
    expect(byKind(objects, 'ClusterRoleBinding')).toEqual([])
    for (const object of [...byKind(objects, 'Role'), ...byKind(objects, 'RoleBinding')]) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBeDefined()
    }
    // Its API token is mounted only where it runs Jobs.
    expect(account.automountServiceAccountToken).toBe(false)
    expect(training.automountServiceAccountToken ?? false).toBe(overlay === 'gpu')
    for (const name of services.filter((s) => s !== 'training')) {
      expect(podSpec(named(objects, 'Deployment', name)).serviceAccountName).toBeUndefined()
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
      ['/v1/rollouts', '/v1/rollouts/r1'],
      ['/v2/', '/v2/models/movies/infer'],
      ['/v1/feedback', '/v1/feedback'],
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
        expect(byKind(objects, 'ResourceQuota')).toHaveLength(0)
        return
      }
      expect(runner.data?.['ARGMAX_TRAINING_RUNNER']).toBe('kubernetes')
      // The runner accepts the overlay's settings as they are.
      const settings = loadKubernetesRunnerSettings(runner.data ?? {})
      expect(settings.namespace).toBe(jobsNamespace)
      expect(settings.gpuPools['gpu']).toEqual({
        resourceName: 'nvidia.com/gpu',
        nodeSelector: { 'nvidia.com/gpu.present': 'true' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        gpus: 8,
        default: true,
      })
      // Pods reach the training API by its Service in the platform's namespace.
      expect(settings.apiUrl).toBe(`http://training.${namespace}.svc.cluster.local`)
      // The trainer image is released with the platform's.
      const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1)
      expect(tagOf(settings.trainerImage)).toBe(tagOf(training.containers[0]!.image))
      expect(settings.trainerImage).toMatch(/^ghcr\.io\/argmax-dev\/argmax-trainer:/)

      // The training service's rights: in the jobs namespace, bound to its ServiceAccount.
      const role = named(objects, 'Role', 'training-runner') as unknown as {
        metadata: { namespace: string }
        rules: PolicyRule[]
      }
      expect(role.metadata.namespace).toBe(jobsNamespace)
      expect(role.rules).toEqual([
        {
          apiGroups: ['batch'],
          resources: ['jobs'],
          verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'],
        },
        {
          apiGroups: ['kubeflow.org'],
          resources: ['xgboostjobs'],
          verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'update'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ])
      const binding = named(objects, 'RoleBinding', 'training-runner') as unknown as {
        metadata: { namespace: string }
        roleRef: { kind: string; name: string }
        subjects: Array<{ kind: string; name: string; namespace: string }>
      }
      expect(binding.metadata.namespace).toBe(jobsNamespace)
      expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'training-runner' })
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'training', namespace }])

      // The namespace's quota caps GPUs at what the pools offer, one line per GPU resource.
      const quota = named(objects, 'ResourceQuota', 'training-jobs') as unknown as {
        metadata: { namespace: string }
        spec: { hard: Record<string, string> }
      }
      expect(quota.metadata.namespace).toBe(jobsNamespace)
      const offered = new Map<string, number>()
      for (const pool of Object.values(settings.gpuPools)) {
        offered.set(pool.resourceName, (offered.get(pool.resourceName) ?? 0) + pool.gpus)
      }
      for (const [resource, gpus] of offered) {
        expect(quota.spec.hard[`requests.${resource}`], resource).toBe(String(gpus))
      }
      expect(quota.spec.hard['requests.nvidia.com/gpu']).toBeDefined()
      expect(named(objects, 'LimitRange', 'training-jobs').metadata.namespace).toBe(jobsNamespace)
      expect(named(objects, 'NetworkPolicy', 'trainers').metadata.namespace).toBe(jobsNamespace)
    },
  )
})
