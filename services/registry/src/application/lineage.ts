import type { LineageTree, VersionView } from '../api/contract.ts'

type Node = {
  kind: LineageTree['kind']
  id: string
  label: string
  attributes: Record<string, string | number | null>
  children: Node[]
}

/**
 * A version's lineage as a tree, root first: dataset → dataset version (with its SHA-256) →
 * training run (trainer, target, seed, the dataset versions it read after the first) → attempt → model version (artifact SHA-256); or
 * upload → model version for a manual registration.
 */
export function lineageTree(version: VersionView): LineageTree {
  const leaf: Node = {
    kind: 'model_version',
    id: `${version.model}/${version.version}`,
    label: `${version.model} version ${version.version}`,
    attributes: {
      artifact: version.artifact.uri,
      sha256: version.artifact.sha256,
      size: version.artifact.size,
      registeredAt: version.registeredAt,
    },
    children: [],
  }
  const { lineage, source } = version
  if (source.kind === 'upload') {
    return {
      kind: 'upload',
      id: source.uploadId ?? 'unknown',
      label: `uploaded by ${version.registeredBy}`,
      attributes: { uploadedBy: version.registeredBy },
      children: [leaf],
    } as LineageTree
  }
  const attempt: Node = {
    kind: 'attempt',
    id: String(lineage.attempt ?? source.attempt ?? ''),
    label: `attempt ${lineage.attempt ?? source.attempt ?? '?'}`,
    attributes: { attempt: lineage.attempt ?? source.attempt ?? null },
    children: [leaf],
  }
  const run: Node = {
    kind: 'run',
    id: lineage.runId ?? source.runId ?? 'unknown',
    label: `training run ${lineage.runId ?? source.runId ?? '?'}`,
    attributes: {
      trainer: version.trainer?.name ?? null,
      trainerVersion: version.trainer?.codeVersion ?? null,
      image: version.trainer?.image ?? null,
      target: version.target,
      seed: version.seed,
      // Read after the dataset version below, as one table (a retrain's fresh feedback).
      extraDatasetVersions:
        lineage.extraDatasets?.map((extra) => extra.versionId).join(', ') || null,
    },
    children: [attempt],
  }
  const datasetVersion: Node = {
    kind: 'dataset_version',
    id: lineage.datasetVersionId ?? 'unknown',
    label: `dataset version ${lineage.datasetVersionId ?? '?'}`,
    attributes: { sha256: lineage.datasetSha256 ?? null },
    children: [run],
  }
  return {
    kind: 'dataset',
    id: lineage.datasetId ?? 'unknown',
    label: `dataset ${lineage.datasetId ?? '?'}`,
    attributes: {},
    children: [datasetVersion],
  } as LineageTree
}
