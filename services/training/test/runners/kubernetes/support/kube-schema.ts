import * as k8s from '@kubernetes/client-node'

/**
 * Checks objects against the Kubernetes API's schema as @kubernetes/client-node carries it: its
 * generated models (`V1Job.getAttributeTypeMap()` …) come from the API's OpenAPI document, so a
 * field they do not know is one the API server does not know either. Plus the value rules of the
 * fields the runner writes (enums, quantities, label syntax) that the API server validates, and
 * the XGBoostJob's structural schema from the Training Operator's CRD
 * (`kubeflow.org_xgboostjobs.yaml`) and validating webhook.
 *
 * `unknownFields` → what `fieldValidation=Strict` refuses (400); `invalidFields` → what the
 * API server's validation refuses (422).
 */

interface Attribute {
  name: string
  baseName: string
  type: string
  format: string
}

function attributesOf(type: string): Attribute[] | undefined {
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[
    type
  ]
  return model?.getAttributeTypeMap?.()
}

const QUANTITY =
  /^[+-]?((\d+(\.\d*)?)|(\.\d+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?((\d+(\.\d*)?)|(\.\d+))))?$/
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/

/** Enums of the fields the runner sets, as the API reference lists them. */
const ENUMS: Record<string, string[]> = {
  'V1PodSpec.restartPolicy': ['Always', 'OnFailure', 'Never'],
  'V1Container.terminationMessagePolicy': ['File', 'FallbackToLogsOnError'],
  'V1Container.imagePullPolicy': ['Always', 'Never', 'IfNotPresent'],
  'V1ContainerPort.protocol': ['TCP', 'UDP', 'SCTP'],
  'V1Toleration.operator': ['Exists', 'Equal'],
  'V1Toleration.effect': ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  'V1SeccompProfile.type': ['RuntimeDefault', 'Unconfined', 'Localhost'],
  'V1JobSpec.completionMode': ['NonIndexed', 'Indexed'],
  'V1JobSpec.podReplacementPolicy': ['TerminatingOrFailed', 'Failed'],
}

/** Fields whose values are quantities (`2`, `500m`, `4096Mi`). */
const QUANTITY_MAPS = new Set(['V1ResourceRequirements.requests', 'V1ResourceRequirements.limits'])
const QUANTITY_FIELDS = new Set(['V1EmptyDirVolumeSource.sizeLimit'])

export interface SchemaReport {
  /** Fields the schema does not have: `fieldValidation=Strict` refuses them. */
  unknown: string[]
  /** Values of the wrong type or outside their enum or syntax: validation refuses them. */
  invalid: string[]
}

/** Walks `value` as an object of client-node model `type` (`V1Job`, `V1Secret` …). */
export function checkModel(type: string, value: unknown, path = ''): SchemaReport {
  const report: SchemaReport = { unknown: [], invalid: [] }
  walk(type, value, path, report, undefined)
  return report
}

function walk(
  type: string,
  value: unknown,
  path: string,
  report: SchemaReport,
  field: string | undefined,
): void {
  if (value === undefined || value === null) return
  const at = path || '<root>'
  if (type === 'any' || type === 'object') return
  if (type === 'string') {
    if (typeof value !== 'string') report.invalid.push(`${at}: must be a string`)
    else if (field && ENUMS[field] && !ENUMS[field]!.includes(value)) {
      report.invalid.push(
        `${at}: Unsupported value: "${value}": supported values: ${ENUMS[field]!.join(', ')}`,
      )
    } else if (field && QUANTITY_FIELDS.has(field) && !QUANTITY.test(value)) {
      report.invalid.push(`${at}: quantities must match the regular expression`)
    }
    return
  }
  if (type === 'number') {
    if (typeof value !== 'number') report.invalid.push(`${at}: must be a number`)
    return
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') report.invalid.push(`${at}: must be a boolean`)
    return
  }
  if (type === 'Date') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      report.invalid.push(`${at}: must be an RFC 3339 time`)
    }
    return
  }
  if (type === 'IntOrString') {
    if (typeof value !== 'string' && !Number.isInteger(value)) {
      report.invalid.push(`${at}: must be an integer or a string`)
    }
    return
  }
  const array = /^Array<(.+)>$/.exec(type)
  if (array) {
    if (!Array.isArray(value)) report.invalid.push(`${at}: must be a list`)
    else value.forEach((item, i) => walk(array[1]!, item, `${path}[${i}]`, report, field))
    return
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      report.invalid.push(`${at}: must be an object`)
      return
    }
    for (const [key, item] of Object.entries(value)) {
      if (field && QUANTITY_MAPS.has(field)) {
        if (typeof item !== 'string' || !QUANTITY.test(item)) {
          report.invalid.push(`${path}[${key}]: quantities must match the regular expression`)
        }
        continue
      }
      walk(map[1]!, item, `${path}[${key}]`, report, undefined)
    }
    return
  }
  const attributes = attributesOf(type)
  if (!attributes) throw new Error(`no client-node model ${type} (at ${at})`)
  if (typeof value !== 'object' || Array.isArray(value)) {
    report.invalid.push(`${at}: must be an object`)
    return
  }
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key)
    const child = path ? `${path}.${key}` : key
    if (!attribute) {
      report.unknown.push(child)
      continue
    }
    walk(attribute.type, item, child, report, `${type}.${attribute.name}`)
  }
}

function labelProblems(labels: unknown, path: string): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries((labels as Record<string, string>) ?? {})) {
    const [prefix, name] = key.includes('/') ? key.split('/', 2) : [undefined, key]
    if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
      problems.push(`${path}: Invalid value: "${key}": prefix part must be a DNS subdomain`)
    }
    if (!name || name.length > 63 || !LABEL_NAME.test(name)) {
      problems.push(`${path}: Invalid value: "${key}": name part must be a valid label name`)
    }
    if (
      typeof value !== 'string' ||
      value.length > 63 ||
      (value !== '' && !LABEL_NAME.test(value))
    ) {
      problems.push(
        `${path}: Invalid value: "${value}": a valid label must be 63 characters or less, alphanumeric, '-', '_' or '.'`,
      )
    }
  }
  return problems
}

function metadataProblems(
  metadata: Record<string, unknown> | undefined,
  path: string,
  maxName: number,
) {
  const problems = labelProblems(metadata?.labels, `${path}.labels`)
  const name = metadata?.name
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length > maxName || !DNS_SUBDOMAIN.test(name)) {
      problems.push(
        `${path}.name: Invalid value: "${String(name)}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character${maxName < 253 ? ` (at most ${maxName} characters)` : ''}`,
      )
    }
  }
  return problems
}

const NATIVE_RESOURCE = /^(cpu|memory|ephemeral-storage|hugepages-.+|storage)$/

/** What the API server's pod-spec validation refuses, for the fields the runner writes. */
function podSpecProblems(spec: k8s.V1PodSpec | undefined, path: string): string[] {
  const problems: string[] = []
  if (!spec) return [`${path}: Required value`]
  if (!spec.containers || spec.containers.length === 0)
    problems.push(`${path}.containers: Required value`)
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name))
  for (const volume of spec.volumes ?? []) {
    if (!DNS_LABEL.test(volume.name))
      problems.push(`${path}.volumes: Invalid value: "${volume.name}"`)
  }
  ;(spec.containers ?? []).forEach((container, i) => {
    const at = `${path}.containers[${i}]`
    if (!container.name || !DNS_LABEL.test(container.name))
      problems.push(`${at}.name: Invalid value: "${container.name}"`)
    if (!container.image) problems.push(`${at}.image: Required value`)
    for (const [j, env] of (container.env ?? []).entries()) {
      if (!ENV_NAME.test(env.name))
        problems.push(`${at}.env[${j}].name: Invalid value: "${env.name}"`)
      if (env.value !== undefined && env.valueFrom !== undefined) {
        problems.push(
          `${at}.env[${j}].valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`,
        )
      }
    }
    for (const [j, mount] of (container.volumeMounts ?? []).entries()) {
      if (!volumes.has(mount.name))
        problems.push(`${at}.volumeMounts[${j}].name: Not found: "${mount.name}"`)
    }
    const requests = container.resources?.requests ?? {}
    const limits = container.resources?.limits ?? {}
    for (const [resource, amount] of Object.entries({ ...requests, ...limits })) {
      if (NATIVE_RESOURCE.test(resource)) continue
      if (!/^[^/]+\/[^/]+$/.test(resource))
        problems.push(
          `${at}.resources: Invalid value: "${resource}": must be a standard resource or an extended resource name`,
        )
      if (!/^\d+$/.test(String(amount)))
        problems.push(
          `${at}.resources[${resource}]: Invalid value: "${String(amount)}": must be an integer`,
        )
      if (requests[resource] !== undefined && limits[resource] !== requests[resource]) {
        problems.push(
          `${at}.resources.requests[${resource}]: Invalid value: "${String(requests[resource])}": must be equal to ${resource} limit`,
        )
      }
    }
    for (const [resource, amount] of Object.entries(requests)) {
      const limit = limits[resource]
      if (
        limit !== undefined &&
        NATIVE_RESOURCE.test(resource) &&
        toNumber(amount) > toNumber(limit)
      ) {
        problems.push(
          `${at}.resources.requests: Invalid value: "${String(amount)}": must be less than or equal to ${resource} limit of ${String(limit)}`,
        )
      }
    }
  })
  return problems
}

function toNumber(quantity: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity))
  if (!match) return Number.NaN
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  }
  return Number(match[1]) * (match[2] ? scale[match[2]]! : 1)
}

export function checkJob(job: k8s.V1Job): SchemaReport {
  const report = checkModel('V1Job', job)
  report.invalid.push(...metadataProblems(job.metadata as Record<string, unknown>, 'metadata', 63))
  const template = job.spec?.template
  report.invalid.push(...labelProblems(template?.metadata?.labels, 'spec.template.metadata.labels'))
  const restart = template?.spec?.restartPolicy
  if (restart !== 'Never' && restart !== 'OnFailure') {
    report.invalid.push(
      `spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`,
    )
  }
  report.invalid.push(...podSpecProblems(template?.spec, 'spec.template.spec'))
  for (const field of [
    'backoffLimit',
    'activeDeadlineSeconds',
    'ttlSecondsAfterFinished',
  ] as const) {
    const value = job.spec?.[field]
    if (
      value !== undefined &&
      (!Number.isInteger(value) || value < (field === 'activeDeadlineSeconds' ? 1 : 0))
    ) {
      report.invalid.push(`spec.${field}: Invalid value: ${value}`)
    }
  }
  return report
}

export function checkSecret(secret: k8s.V1Secret): SchemaReport {
  const report = checkModel('V1Secret', secret)
  report.invalid.push(
    ...metadataProblems(secret.metadata as Record<string, unknown>, 'metadata', 253),
  )
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key))
      report.invalid.push(
        `data[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      )
    if (
      typeof value !== 'string' ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(value) ||
      value.length % 4 !== 0
    ) {
      report.invalid.push(`data[${key}]: illegal base64 data`)
    }
  }
  return report
}

const RUN_POLICY: Record<string, 'integer' | 'string' | 'boolean' | 'object'> = {
  activeDeadlineSeconds: 'integer',
  backoffLimit: 'integer',
  cleanPodPolicy: 'string',
  schedulingPolicy: 'object',
  suspend: 'boolean',
  ttlSecondsAfterFinished: 'integer',
}
const REPLICA_SPEC = new Set(['replicas', 'restartPolicy', 'template'])
const TEMPLATE_METADATA = new Set(['annotations', 'finalizers', 'labels', 'name', 'namespace'])

/** The XGBoostJob CRD's structural schema and the operator's webhook rules. */
export function checkXGBoostJob(job: Record<string, unknown>): SchemaReport {
  const report: SchemaReport = { unknown: [], invalid: [] }
  for (const key of Object.keys(job)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key))
      report.unknown.push(key)
  }
  const metadata = checkModel('V1ObjectMeta', job.metadata, 'metadata')
  report.unknown.push(...metadata.unknown)
  report.invalid.push(...metadata.invalid)
  report.invalid.push(...metadataProblems(job.metadata as Record<string, unknown>, 'metadata', 63))
  const spec = (job.spec ?? {}) as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (key !== 'runPolicy' && key !== 'xgbReplicaSpecs') report.unknown.push(`spec.${key}`)
  }
  const runPolicy = (spec.runPolicy ?? {}) as Record<string, unknown>
  for (const [key, value] of Object.entries(runPolicy)) {
    const type = RUN_POLICY[key]
    if (!type) report.unknown.push(`spec.runPolicy.${key}`)
    else if (type === 'integer' ? !Number.isInteger(value) : typeof value !== type) {
      report.invalid.push(`spec.runPolicy.${key}: must be ${type}`)
    }
  }
  if (
    runPolicy.cleanPodPolicy !== undefined &&
    !['None', 'Running', 'All'].includes(String(runPolicy.cleanPodPolicy))
  ) {
    report.invalid.push(
      `spec.runPolicy.cleanPodPolicy: Unsupported value: "${String(runPolicy.cleanPodPolicy)}"`,
    )
  }
  const replicas = (spec.xgbReplicaSpecs ?? {}) as Record<string, Record<string, unknown>>
  if (!replicas.Master)
    report.invalid.push('spec.xgbReplicaSpecs: Required value: a Master replica')
  for (const [type, replica] of Object.entries(replicas)) {
    const at = `spec.xgbReplicaSpecs[${type}]`
    if (type !== 'Master' && type !== 'Worker')
      report.invalid.push(
        `${at}: Unsupported value: "${type}": supported values: "Master", "Worker"`,
      )
    for (const key of Object.keys(replica))
      if (!REPLICA_SPEC.has(key)) report.unknown.push(`${at}.${key}`)
    if (!Number.isInteger(replica.replicas)) report.invalid.push(`${at}.replicas: must be integer`)
    if (type === 'Master' && replica.replicas !== 1)
      report.invalid.push(`${at}.replicas: Invalid value: must be 1`)
    if (!['Always', 'OnFailure', 'Never', 'ExitCode'].includes(String(replica.restartPolicy))) {
      report.invalid.push(
        `${at}.restartPolicy: Unsupported value: "${String(replica.restartPolicy)}"`,
      )
    }
    const template = (replica.template ?? {}) as {
      metadata?: Record<string, unknown>
      spec?: k8s.V1PodSpec
    }
    for (const key of Object.keys(template)) {
      if (key !== 'metadata' && key !== 'spec') report.unknown.push(`${at}.template.${key}`)
    }
    for (const key of Object.keys(template.metadata ?? {})) {
      if (!TEMPLATE_METADATA.has(key)) report.unknown.push(`${at}.template.metadata.${key}`)
    }
    report.invalid.push(
      ...labelProblems(template.metadata?.labels, `${at}.template.metadata.labels`),
    )
    const pod = checkModel('V1PodSpec', template.spec, `${at}.template.spec`)
    report.unknown.push(...pod.unknown)
    report.invalid.push(...pod.invalid, ...podSpecProblems(template.spec, `${at}.template.spec`))
    if (!(template.spec?.containers ?? []).some((c) => c.name === 'xgboost')) {
      report.invalid.push(
        `${at}.template.spec.containers: Required value: must have at least one container with name xgboost`,
      )
    }
  }
  return report
}
