import type {
  LineageTree,
  ModelDetails,
  ModelView,
  ReleaseChange,
  ReleaseView,
  VersionDetails,
  VersionList,
} from '@argmax/registry-service/client'
import { formatBytes, table } from '../datasets/render.ts'

type Release = NonNullable<ReleaseView['release']>

/** `2 · canary 3 at 10 % · shadow 1`, or `none`. */
export function releaseText(release: Release | null): string {
  if (!release) return 'none'
  return [
    `stable ${release.stable}`,
    ...(release.canary ? [`canary ${release.canary.version} at ${release.canary.percent} %`] : []),
    ...(release.shadow !== undefined ? [`shadow ${release.shadow}`] : []),
  ].join(' · ')
}

export function renderModels(models: ModelView[]): string {
  return table(
    models.map((m) => ({
      ...m,
      versions: m.versionCount,
      latest: m.latestVersion,
      release: releaseText(m.release),
    })),
    ['name', 'ownerId', 'task', 'versions', 'latest', 'release', 'tags', 'createdAt'],
  )
}

export function renderModel(model: ModelDetails): string {
  const aliases = Object.entries(model.aliases)
    .map(([alias, version]) => `${alias} → ${version}`)
    .join(', ')
  const lines = [
    `name         ${model.name}`,
    `owner        ${model.ownerId} (${model.origin === 'training' ? 'created by a training run' : 'created by hand'})`,
    `task         ${model.task ?? '-'}`,
    `description  ${model.description || '-'}`,
    `tags         ${model.tags.join(', ') || '-'}`,
    `versions     ${model.versionCount} (latest ${model.latestVersion ?? '-'})`,
    `release      ${releaseText(model.release)}`,
    `aliases      ${aliases || '-'}`,
    `created      ${model.createdAt}`,
    ...(model.deletedAt ? [`deleted      ${model.deletedAt}`] : []),
  ]
  if (model.refusedRuns.length > 0) {
    lines.push('', 'runs not registered:')
    for (const run of model.refusedRuns)
      lines.push(`  ${run.runId} (${run.reason}): ${run.message}`)
  }
  return lines.join('\n')
}

/** Versions with their metrics side by side: one column per metric. */
export function renderVersions(list: VersionList): string {
  const metrics = list.compare
    ? [list.compare.metric, ...list.metrics.filter((m) => m !== list.compare!.metric)]
    : list.metrics
  const rows = list.items.map((v) => ({
    version: v.version,
    status: v.status,
    aliases: v.aliases.length > 0 ? v.aliases : null,
    served: v.served.length > 0 ? v.served : null,
    source: v.source.kind === 'training' ? `run ${v.source.runId}` : 'upload',
    ...Object.fromEntries(metrics.map((m) => [m, v.metrics[m]])),
    registeredAt: v.registeredAt,
  }))
  const text = table(rows, [
    'version',
    'status',
    'aliases',
    'served',
    ...metrics,
    'source',
    'registeredAt',
  ])
  return list.compare
    ? `${text}\n(sorted by ${list.compare.metric}, ${list.compare.order === 'asc' ? 'lowest' : 'highest'} first)`
    : text
}

export function renderVersion(version: VersionDetails): string {
  const lines = [
    `version      ${version.model} ${version.version} (${version.status})`,
    `aliases      ${version.aliases.join(', ') || '-'}`,
    `served as    ${version.served.join(', ') || '-'}`,
    `task         ${version.task}`,
    `artifact     ${version.artifact.uri} (${formatBytes(version.artifact.size)}, sha256 ${version.artifact.sha256})`,
    `source       ${version.source.kind === 'training' ? `run ${version.source.runId}, attempt ${version.source.attempt}` : `upload ${version.source.uploadId}`}`,
    ...(version.trainer
      ? [`trainer      ${version.trainer.name} ${version.trainer.codeVersion}`]
      : []),
    `registered   ${version.registeredAt} by ${version.registeredBy}`,
    '',
    'metrics:',
    ...Object.entries(version.metrics).map(([name, value]) => `  ${name.padEnd(20)} ${value}`),
    '',
    table(
      version.signature.inputs.map((i) => ({
        input: i.name,
        datatype: i.datatype,
        shape: JSON.stringify(i.shape),
        nullable: i.nullable,
        categories: i.categories?.length,
      })),
      ['input', 'datatype', 'shape', 'nullable', 'categories'],
    ),
    `outputs: ${version.signature.outputs.map((o) => `${o.name} ${o.datatype} ${JSON.stringify(o.shape)}`).join(', ')}`,
  ]
  if (version.annotations.length > 0) {
    lines.push('', 'annotations:')
    for (const a of version.annotations)
      lines.push(`  ${a.annotatedAt} ${a.annotatedBy} [${a.kind}] ${a.text}`)
  }
  return lines.join('\n')
}

/** The lineage tree, indented: dataset → dataset version → run → attempt → version. */
export function renderLineage(root: LineageTree): string {
  const lines: string[] = []
  const walk = (
    node: { label: string; attributes: Record<string, unknown>; children: unknown[] },
    depth: number,
  ) => {
    const details = Object.entries(node.attributes)
      .filter(([, value]) => value !== null && value !== undefined && value !== '')
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(' ')
    lines.push(
      `${'  '.repeat(depth)}${depth > 0 ? '└─ ' : ''}${node.label}${details ? `  (${details})` : ''}`,
    )
    for (const child of node.children as Array<typeof node>) walk(child, depth + 1)
  }
  walk(root, 0)
  return lines.join('\n')
}

export function renderRelease(release: ReleaseView): string {
  if (release.sequence === 0) return `${release.model}: never released`
  return [
    `${release.model}: ${releaseText(release.release)}`,
    `  ${release.kind} by ${release.changedBy} at ${release.changedAt}: ${release.reason}`,
  ].join('\n')
}

export function renderReleases(changes: ReleaseChange[]): string {
  return table(
    changes.map((c) => ({
      ...c,
      release: releaseText(c.release),
      previous: releaseText(c.previous),
    })),
    ['sequence', 'kind', 'release', 'previous', 'changedBy', 'changedAt', 'reason'],
  )
}
