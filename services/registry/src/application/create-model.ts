import { assertCanWrite, type Principal } from '@argmax/auth'
import type { ModelTask } from '@argmax/contracts'
import { handleCommand, idempotentId, requestHash } from '@argmax/events'
import { assertModelName, modelDecider, type ModelState } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'

export interface CreateModelInput {
  name: string
  description?: string
  tags?: string[]
  task?: ModelTask
}

/**
 * Creates a model. Its name is its id (the subject `registry.model.<name>`), so the name's
 * uniqueness is the subject's expected sequence. Under an `Idempotency-Key` the key's id and
 * the request's hash are recorded: a retry answers the same model and writes nothing, another
 * request under the key is refused (422).
 */
export async function createModel(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  input: CreateModelInput,
  idempotencyKey?: string,
): Promise<{ position: number; state: ModelState }> {
  assertCanWrite(principal)
  assertModelName(input.name)
  const keyed =
    idempotencyKey === undefined
      ? {}
      : {
          idempotencyId: idempotentId({
            caller: principal.subject,
            scope: 'registry.model.create',
            key: idempotencyKey,
          }),
          requestHash: requestHash(input),
        }
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, input.name),
    {
      type: 'CreateModel',
      data: {
        model: input.name,
        ownerId: principal.subject,
        description: input.description ?? '',
        tags: input.tags ?? [],
        ...(input.task !== undefined ? { task: input.task } : {}),
        now: deps.now(),
        ...keyed,
      },
    },
    { actor: principal },
  )
  return { position: outcome.position, state: outcome.state }
}
