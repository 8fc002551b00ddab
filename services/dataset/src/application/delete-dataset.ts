import type { Principal } from '@argmax/auth'
import type { DatasetState } from '../domain/index.ts'
import { runDatasetCommand } from './aggregates.ts'
import type { DatasetDeps } from './dependencies.ts'
import { changeableDataset } from './dataset-access.ts'

/**
 * Soft delete: the dataset disappears from listings and accepts no more uploads; its files
 * stay until the purge job removes them after the retention period.
 */
export async function deleteDataset(
  deps: Pick<DatasetDeps, 'store' | 'names' | 'now'>,
  principal: Principal,
  datasetId: string,
): Promise<{ position: number; state: DatasetState }> {
  await changeableDataset(deps, principal, datasetId)
  const outcome = await runDatasetCommand(deps, principal, datasetId, {
    type: 'DeleteDataset',
    data: { datasetId, now: deps.now() },
  })
  return { position: outcome.position, state: outcome.state }
}
