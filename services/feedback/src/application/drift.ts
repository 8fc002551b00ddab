import type { Principal } from '@argmax/auth'
import type { ModelSignature, Release } from '@argmax/contracts'
import { liveHistograms, type DriftTarget } from '../analytics/drift.queries.ts'
import type { DriftView, FeatureDrift, VersionDrift } from '../api/contract.ts'
import { binningOf, psiOf, type DatasetProfile } from '../domain/psi.ts'
import { windowRange, type WindowName } from '../domain/windows.ts'
import type { FeedbackDeps } from './dependencies.ts'
import { listModelVersions, visibleModel } from './model-access.ts'
import { loadSignature } from './signatures.ts'

export interface DriftRequest {
  window: WindowName
  version?: number | undefined
}

/**
 * Drift of a model's versions over a window: PSI of every input (and of the prediction itself)
 * between the version's training dataset profile — histogram bins for numbers, top values for
 * strings — and the live predictions, binned and counted in ClickHouse.
 */
export async function modelDrift(
  deps: Pick<FeedbackDeps, 'db' | 'analytics' | 'storedJson' | 'now' | 'profiles'>,
  principal: Principal,
  model: string,
  request: DriftRequest,
): Promise<DriftView> {
  const row = await visibleModel(deps, principal, model)
  const release = row.release as Release | null
  const range = windowRange(
    request.window,
    deps.now(),
    row.released_at ? new Date(row.released_at) : null,
  )
  const all = await listModelVersions(deps, model)
  const wanted =
    request.version !== undefined
      ? all.filter((v) => v.version === request.version)
      : all.filter((v) => release && [release.stable, release.canary?.version].includes(v.version))
  const versions: VersionDrift[] = []
  for (const meta of wanted) {
    const signature = await loadSignature(deps.storedJson, meta.signature)
    const profile = meta.dataset_version_id
      ? await deps.profiles.get(meta.dataset_version_id)
      : undefined
    versions.push(
      await versionDrift(
        deps,
        { model, version: meta.version, from: range.from, to: range.to },
        signature,
        profile,
        {
          datasetId: meta.dataset_id,
          datasetVersionId: meta.dataset_version_id,
        },
      ),
    )
  }
  return {
    model,
    window: { name: request.window, from: range.from.toISOString(), to: range.to.toISOString() },
    versions,
  }
}

export async function versionDrift(
  deps: Pick<FeedbackDeps, 'analytics'>,
  scope: { model: string; version: number; from: Date; to: Date },
  signature: ModelSignature,
  profile: DatasetProfile | undefined,
  lineage: { datasetId: string | null; datasetVersionId: string | null },
): Promise<VersionDrift> {
  const columns = new Map((profile?.columns ?? []).map((c) => [c.name, c]))
  const targets: Array<DriftTarget & { feature: string }> = []
  for (const input of signature.inputs) {
    const column = columns.get(input.column ?? input.name)
    const binning = column ? binningOf(column) : undefined
    if (binning)
      targets.push({ feature: input.name, source: { kind: 'input', name: input.name }, binning })
  }
  const targetColumn = signature.outputs[0]?.column
  const predicted = targetColumn ? columns.get(targetColumn) : undefined
  const predictionBinning = predicted ? binningOf(predicted) : undefined
  const usable =
    predictionBinning &&
    (signature.task === 'regression'
      ? predictionBinning.kind === 'numeric'
      : predictionBinning.kind === 'categorical')
  if (predictionBinning && usable) {
    targets.push({
      feature: targetColumn!,
      source: { kind: 'prediction' },
      binning: predictionBinning,
    })
  }
  const { predictions, histograms } = await liveHistograms(
    deps.analytics,
    { db: deps.analytics.database, ...scope },
    targets,
  )
  const drifts: FeatureDrift[] = targets.map((target, i) => {
    const { psi, bins } = psiOf(target.binning, histograms[i]!)
    return { feature: target.feature, kind: target.binning.kind, psi, bins }
  })
  const prediction = usable ? drifts.pop()! : null
  const known = drifts.map((d) => d.psi).filter((v): v is number => v !== null)
  return {
    version: scope.version,
    predictions,
    baseline:
      profile && lineage.datasetVersionId
        ? {
            datasetId: lineage.datasetId,
            datasetVersionId: lineage.datasetVersionId,
            rows: profile.rowCount,
          }
        : null,
    features: drifts,
    prediction,
    maxPsi: known.length > 0 ? Math.max(...known) : null,
    ...(profile
      ? {}
      : {
          note: lineage.datasetVersionId
            ? `the training dataset version ${lineage.datasetVersionId} has no profile (yet)`
            : 'the version names no training dataset version: nothing to compare with',
        }),
  }
}
