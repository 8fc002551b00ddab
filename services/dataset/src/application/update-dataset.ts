import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
import { changeableDataset } from './dataset-access.ts'
import type { DatasetDeps } from './dependencies.ts'

export interface UpdateDatasetInput {
  name?: string
  description?: string
  tags?: string[]
}

export async function updateDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  datasetId: string,
  input: UpdateDatasetInput,
): Promise<{ position: number; state: DatasetState }> {
  await changeableDataset(deps, principal, datasetId)
  const outcome = await handleCommand(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
    { type: 'UpdateDataset', data: { datasetId, ...input, now: deps.now() } },
    { actor: principal },
  )
  return { position: outcome.position, state: outcome.state }
}
