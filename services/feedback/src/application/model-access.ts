import { assertCanWrite, canAccess, type Principal } from '@argmax/auth'
import type { ModelSignature } from '@argmax/contracts'
import { NotFoundError, UnavailableError } from '@argmax/errors'
import type { FeedbackDeps } from './dependencies.ts'
import type { ModelRow, ModelVersionRow } from '../projections/tables.ts'
import { loadSignature } from './signatures.ts'

/**
 * Access to models as feedback knows them from the registry's events: users see (and label, and
 * watch) only their own models, admins all, analysts read all and write nothing. Anybody
 * else's model is a 404, like a model that does not exist.
 */
export async function visibleModel(
  deps: Pick<FeedbackDeps, 'db'>,
  principal: Principal,
  name: string,
  access: 'read' | 'write' = 'read',
): Promise<ModelRow> {
  if (access === 'write') assertCanWrite(principal)
  const model = await deps.db
    .selectFrom('models')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst()
  if (!model || model.deleted_at !== null || !canAccess(principal, model.owner_id, access)) {
    throw new NotFoundError('model', name)
  }
  return model
}

export async function findModelVersion(
  deps: Pick<FeedbackDeps, 'db'>,
  model: string,
  version: number,
): Promise<ModelVersionRow | undefined> {
  return deps.db
    .selectFrom('model_versions')
    .selectAll()
    .where('model', '=', model)
    .where('version', '=', version)
    .executeTakeFirst()
}

export async function listModelVersions(
  deps: Pick<FeedbackDeps, 'db'>,
  model: string,
): Promise<ModelVersionRow[]> {
  return deps.db
    .selectFrom('model_versions')
    .selectAll()
    .where('model', '=', model)
    .orderBy('version')
    .execute()
}

/**
 * A version's signature. A version feedback has not heard of yet while a genuine prediction id
 * names it means the registry's events are still on their way: 503, try again shortly.
 */
export async function versionSignature(
  deps: Pick<FeedbackDeps, 'db' | 'storedJson'>,
  model: string,
  version: number,
): Promise<{ row: ModelVersionRow; signature: ModelSignature }> {
  const row = await findModelVersion(deps, model, version)
  if (!row) {
    throw new UnavailableError(
      `version ${version} of model ${model} is not known to feedback yet; retry shortly`,
      { dependency: 'registry-events' },
    )
  }
  return { row, signature: await loadSignature(deps.storedJson, row.signature) }
}
