import { loadAggregate } from '@argmax/events'
import {
  releaseDecider,
  type ModelState,
  type ReleaseFacts,
  type ReleaseState,
  type VersionFacts,
} from '../domain/index.ts'
import { releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { loadModel } from './model-access.ts'
import { loadSignature } from './signatures.ts'
import { storageProblems } from './stored-objects.ts'

/**
 * What a release decision needs, gathered from the model's events, its versions' signatures and
 * a HeadObject of each version's model and signature objects: for the versions the change would
 * serve and for the current stable one. The decider compares `currentStable` with the release
 * it loads, so facts gathered against a release that moved meanwhile send the change round
 * again (see withFreshFacts).
 */
export async function gatherReleaseFacts(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>,
  model: string,
  versionsOf: (release: ReleaseState) => number[],
): Promise<{ facts: ReleaseFacts; model: ModelState; release: ReleaseState }> {
  const [loadedModel, loadedRelease] = await Promise.all([
    loadModel(deps, model),
    loadAggregate(deps.store, releaseDecider, releaseSubject(deps.names, model)),
  ])
  const state = loadedModel.state
  const release = loadedRelease.state
  const currentStable = release.current?.stable ?? null
  const wanted = new Set(versionsOf(release))
  if (currentStable !== null) wanted.add(currentStable)
  const versions: Record<number, VersionFacts | undefined> = {}
  await Promise.all(
    [...wanted].map(async (number) => {
      const record = state.versions[number]
      if (!record || record.status === 'purged') {
        versions[number] = undefined
        return
      }
      const [problems, signature] = await Promise.all([
        storageProblems(deps, { model: record.artifact, signature: record.signature }),
        loadSignature(deps, record.signature),
      ])
      versions[number] = { status: record.status, storageProblems: problems, signature }
    }),
  )
  return { facts: { modelStatus: state.status, currentStable, versions }, model: state, release }
}
