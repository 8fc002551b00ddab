import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { modelDecider, type ModelState } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess } from './model-access.ts'

/**
 * Brings a deleted model back before it is purged. It serves nothing until a release says so:
 * `POST …/release/rollback` restores the release it had before its deletion, exactly.
 */
export async function restoreModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  model: string,
): Promise<{ position: number; state: ModelState }> {
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'RestoreModel', data: { model, now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { position: outcome.position, state: outcome.state }
}
