import type { Principal } from '@argmax/auth'
import { handleCommand } from '@argmax/events'
import { datasetDecider, type DatasetState } from '../domain/index.ts'
import { datasetSubject } from '../streams.ts'
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
  const outcome = await handleCommand(
    deps.store,
    datasetDecider,
    datasetSubject(deps.names, datasetId),
    { type: 'DeleteDataset', data: { datasetId, now: deps.now() } },
    { actor: principal },
  )
  return { position: outcome.position, state: outcome.state }
}
