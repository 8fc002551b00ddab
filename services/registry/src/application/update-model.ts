import type { Principal } from '@argmax/auth'
import type { ModelTask } from '@argmax/contracts'
import { handleCommand } from '@argmax/events'
import { modelDecider, type ModelState } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess } from './model-access.ts'

export interface UpdateModelInput {
  description?: string
  tags?: string[]
  task?: ModelTask
}

export async function updateModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  model: string,
  input: UpdateModelInput,
): Promise<{ position: number; state: ModelState }> {
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    { type: 'UpdateModel', data: { model, ...input, now: deps.now() } },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { position: outcome.position, state: outcome.state }
}
