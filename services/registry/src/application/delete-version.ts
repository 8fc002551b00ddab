import type { Principal } from '@argmax/auth'
import { IllegalStateError } from '@argmax/errors'
import { handleCommand, loadAggregate, type Actor } from '@argmax/events'
import { modelDecider, releaseDecider, servedVersions, type ModelState } from '../domain/index.ts'
import { modelSubject, releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess, changeableModel } from './model-access.ts'
import { resolveVersionFromEvents } from './resolve-version.ts'

type Deps = Pick<RegistryDeps, 'store' | 'names' | 'now'>

export const REGISTRY_ACTOR = 'system:registry'

/**
 * Soft-deletes a version — refused (409) while the current release serves it. The release and
 * the model are two subjects, so the check and a concurrent release change could cross; both
 * sides therefore look again after writing (here: is it served now? in a release change: does it
 * serve a deleted version?) and the later one restores the version, recorded as
 * `ModelVersionRestored` with reason `served`. A release wins over a concurrent deletion; a
 * served version is never left deleted.
 */
export async function deleteVersion(
  deps: Deps,
  principal: Principal,
  model: string,
  ref: string,
): Promise<{ version: number; position: number; state: ModelState }> {
  const loaded = await changeableModel(deps, principal, model)
  const { version, release } = await resolveVersionFromEvents(deps, model, loaded.state, ref)
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    {
      type: 'DeleteVersion',
      data: { model, version, served: servedVersions(release.current), now: deps.now() },
    },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  if (outcome.written > 0) {
    const after = await loadAggregate(deps.store, releaseDecider, releaseSubject(deps.names, model))
    if (servedVersions(after.state.current).includes(version)) {
      await restoreServedVersions(deps, model, [version])
      throw new IllegalStateError(
        `version ${version} of ${model} became served by a release changed at the same time: it was not deleted`,
      )
    }
  }
  return { version, position: outcome.position, state: outcome.state }
}

/** The repair both sides share: versions a release serves are brought back if deleted. */
export async function restoreServedVersions(
  deps: Deps,
  model: string,
  versions: number[],
  actor: Actor = REGISTRY_ACTOR,
): Promise<number> {
  let position = 0
  for (const version of versions) {
    const outcome = await handleCommand(
      deps.store,
      modelDecider,
      modelSubject(deps.names, model),
      { type: 'RestoreVersion', data: { model, version, reason: 'served', now: deps.now() } },
      {
        actor,
        guard: (state) => {
          // Only a deleted version of a live model; anything else is left as it is.
          const record = state.versions[version]
          if (state.status !== 'active' || record?.status !== 'deleted') {
            throw new SkipRestore()
          }
        },
      },
    ).catch((error: unknown) => {
      if (error instanceof SkipRestore) return undefined
      throw error
    })
    if (outcome) position = Math.max(position, outcome.position)
  }
  return position
}

class SkipRestore extends Error {}

export async function restoreVersion(
  deps: Deps,
  principal: Principal,
  model: string,
  ref: string,
): Promise<{ version: number; position: number; state: ModelState }> {
  const loaded = await changeableModel(deps, principal, model)
  const { version } = await resolveVersionFromEvents(deps, model, loaded.state, ref)
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'RestoreVersion', data: { model, version, reason: 'user', now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { version, position: outcome.position, state: outcome.state }
}
