import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import { modelDecider, type ModelInfo, type ModelState } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import { assertCanChange, assertCanRead } from './access.ts'
import type { RegistryDeps } from './dependencies.ts'

export interface LoadedModel {
  state: ModelState
  info: ModelInfo
  position: number
}

/**
 * The model from its events, if the caller may see it (404 otherwise, also for a purged one).
 * The events are never behind, unlike the read model: a query that waits for its own write
 * checks access here first, so a caller without access is refused at once.
 */
export async function readableModel(
  deps: Pick<RegistryDeps, 'store' | 'names'>,
  principal: Principal,
  model: string,
): Promise<LoadedModel> {
  const loaded = await loadModel(deps, model)
  assertModelAccess(loaded.state, principal, model, 'read')
  return { ...loaded, info: loaded.state.info! }
}

/** The model from its events, if the caller may change it (404 when they may not see it). */
export async function changeableModel(
  deps: Pick<RegistryDeps, 'store' | 'names'>,
  principal: Principal,
  model: string,
): Promise<LoadedModel> {
  const loaded = await loadModel(deps, model)
  assertModelAccess(loaded.state, principal, model, 'write')
  return { ...loaded, info: loaded.state.info! }
}

export function loadModel(deps: Pick<RegistryDeps, 'store' | 'names'>, model: string) {
  return loadAggregate(deps.store, modelDecider, modelSubject(deps.names, model))
}

/** The checks of readableModel/changeableModel on a state already loaded (inside a command). */
export function assertModelAccess(
  state: ModelState,
  principal: Principal,
  model: string,
  access: 'read' | 'write',
): ModelInfo {
  if ((state.status !== 'active' && state.status !== 'deleted') || !state.info) {
    throw new NotFoundError('model', model)
  }
  if (access === 'write') assertCanChange(principal, state.info.ownerId, model)
  else assertCanRead(principal, state.info.ownerId, model)
  return state.info
}
