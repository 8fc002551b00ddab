import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { modelDecider, type ModelState } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess } from './model-access.ts'

/** Points an alias at a version: one event with the version it left, so moves are atomic. */
export async function setAlias(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  model: string,
  alias: string,
  version: number,
): Promise<{ position: number; state: ModelState }> {
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'SetAlias', data: { model, alias, version, now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { position: outcome.position, state: outcome.state }
}

export async function removeAlias(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  model: string,
  alias: string,
): Promise<{ position: number; state: ModelState }> {
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'RemoveAlias', data: { model, alias, now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { position: outcome.position, state: outcome.state }
}
