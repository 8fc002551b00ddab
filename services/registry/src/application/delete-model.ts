import type { Principal } from '@argmax/auth'
import { actorId, handleCommand } from '@argmax/events'
import { modelDecider, releaseDecider, type ModelState } from '../domain/index.ts'
import { modelSubject, releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess } from './model-access.ts'

/**
 * Soft delete: the model disappears from listings, takes no new versions and serves nothing —
 * ModelDeleted, then a ReleaseChanged to no release (kind `model_deleted`), which the inference
 * gateway follows. Both steps are idempotent, so a retry after a crash between them finishes
 * the second. Release changes after the first are refused (409), and the release append
 * expects the release's sequence: no concurrent change can slip in between.
 */
export async function deleteModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  model: string,
): Promise<{ position: number; state: ModelState }> {
  const deleted = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'DeleteModel', data: { model, now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  const cleared = await handleCommand(
    deps.store,
    releaseDecider,
    releaseSubject(deps.names, model),
    { type: 'ClearRelease', data: { model, changedBy: actorId(principal), now: deps.now() } },
    { actor: principal, ...(deleted.events[0] ? { causationId: deleted.events[0].id } : {}) },
  )
  return { position: Math.max(deleted.position, cleared.position), state: deleted.state }
}
