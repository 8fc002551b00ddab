import { assertCanWrite, type Principal } from '@argmax/auth'
import type { DatasetState } from '../domain/index.ts'
import { runDatasetCommand } from './aggregates.ts'
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
  const outcome = await runDatasetCommand(deps, principal, datasetId, {
    type: 'CreateDataset',
    data: {
      datasetId,
      name: input.name,
      description: input.description ?? '',
      tags: input.tags ?? [],
      ownerId: principal.subject,
      now: deps.now(),
    },
  })
  return { datasetId, position: outcome.position, state: outcome.state }
}
