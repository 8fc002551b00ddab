import { assertCanWrite, type Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
import type { DatasetDeps } from './dependencies.ts'

export interface CreateDatasetInput {
  name: string
  description?: string
  tags?: string[]
}

export async function createDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now' | 'newId'>,
  principal: Principal,
  input: CreateDatasetInput,
): Promise<{ datasetId: string; position: number; state: DatasetState }> {
  assertCanWrite(principal)
  const datasetId = deps.newId()
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
      },
    },
    { actor: principal },
  )
  return { datasetId, position: outcome.position, state: outcome.state }
}
