import { assertCanWrite, type Principal } from '@argmax/auth'
import { handleCommand, identifyCreate } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'

export interface CreateDatasetInput {
  name: string
  description?: string
  tags?: string[]
}

/**
 * Creates a dataset. Under an `Idempotency-Key` the id derives from (caller, key) and the
 * request's hash is recorded, so a retry answers the same dataset and writes nothing.
 */
export async function createDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now' | 'newId'>,
  principal: Principal,
  input: CreateDatasetInput,
  idempotencyKey?: string,
): Promise<{ datasetId: string; position: number; state: DatasetState }> {
  assertCanWrite(principal)
  const { id: datasetId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: 'dataset.create',
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
    {
      type: 'CreateDataset',
      data: {
        datasetId,
        name: input.name,
        description: input.description ?? '',
        tags: input.tags ?? [],
        ownerId: principal.subject,
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal },
  )
  return { datasetId, position: outcome.position, state: outcome.state }
}
