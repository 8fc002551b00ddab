import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import type { DatasetState } from '../domain/index.ts'
import { assertCanChange } from './access.ts'
import { loadDataset, runDatasetCommand } from './aggregates.ts'
import type { DatasetDeps } from './dependencies.ts'

export interface UpdateDatasetInput {
  name?: string
  description?: string
  tags?: string[]
}

/** Loads the dataset and checks the caller may change it (404 when they may not see it). */
export async function changeableDataset(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
): Promise<Exclude<DatasetState, { status: 'absent' }>> {
  const { state } = await loadDataset(deps, datasetId)
  if (state.status === 'absent' || state.status === 'purged') {
    throw new NotFoundError('dataset', datasetId)
  }
  assertCanChange(principal, state.ownerId, 'dataset', datasetId)
  return state
}

export async function updateDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  datasetId: string,
  input: UpdateDatasetInput,
): Promise<{ position: number; state: DatasetState }> {
  await changeableDataset(deps, principal, datasetId)
  const outcome = await runDatasetCommand(deps, principal, datasetId, {
    type: 'UpdateDataset',
    data: { datasetId, ...input, now: deps.now() },
  })
  return { position: outcome.position, state: outcome.state }
}
