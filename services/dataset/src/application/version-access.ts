import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import { versionDecider, type VersionState } from '../domain/index.ts'
import { versionSubject } from '../streams.ts'
import { assertCanChange, assertCanRead } from './access.ts'
import type { DatasetDeps } from './dependencies.ts'

export type ExistingVersion = Exclude<VersionState, { status: 'absent' }>

/**
 * Loads a version (upload) from its events and checks it belongs to the dataset in the path
 * and that the caller may see it — or change it, with `access: 'write'`.
 */
export async function accessibleVersion(
  deps: Pick<DatasetDeps, 'store' | 'names'>,
  principal: Principal,
  datasetId: string,
  versionId: string,
  access: 'read' | 'write',
): Promise<{ version: ExistingVersion; lastSequence: number }> {
  const { state, position } = await loadAggregate(
    deps.store,
    versionDecider,
    versionSubject(deps.names, versionId),
  )
  return {
    version: assertVersionAccess(state, principal, datasetId, versionId, access),
    lastSequence: position,
  }
}

/** The checks of accessibleVersion on a state already loaded (e.g. inside a command). */
export function assertVersionAccess(
  state: VersionState,
  principal: Principal,
  datasetId: string,
  versionId: string,
  access: 'read' | 'write',
): ExistingVersion {
  if (state.status === 'absent' || state.datasetId !== datasetId) {
    throw new NotFoundError('upload', versionId)
  }
  if (access === 'write') assertCanChange(principal, state.ownerId, 'upload', versionId)
  else assertCanRead(principal, state.ownerId, 'upload', versionId)
  return state
}
