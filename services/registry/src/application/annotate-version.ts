import type { Principal } from '@argmax/auth'
import { ValidationError } from '@argmax/errors'
import { handleCommand, identifyCreate } from '@argmax/events'
import { MAX_ANNOTATION_DATA_BYTES, modelDecider } from '../domain/index.ts'
import { modelSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { assertModelAccess, changeableModel } from './model-access.ts'
import { resolveVersionFromEvents } from './resolve-version.ts'

export interface AnnotateInput {
  kind?: string
  text: string
  data?: Record<string, unknown>
}

/**
 * Records what was learned about a version after it was registered (an operator's note, an
 * evaluation, a rollout's verdict): versions never change, annotations accumulate.
 */
export async function annotateVersion(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'now' | 'newId'>,
  principal: Principal,
  model: string,
  ref: string,
  input: AnnotateInput,
  idempotencyKey?: string,
): Promise<{ version: number; annotationId: string; position: number }> {
  if (input.data !== undefined && JSON.stringify(input.data).length > MAX_ANNOTATION_DATA_BYTES) {
    throw ValidationError.field(
      'data',
      `must be at most ${MAX_ANNOTATION_DATA_BYTES} bytes of JSON`,
    )
  }
  const loaded = await changeableModel(deps, principal, model)
  const { version } = await resolveVersionFromEvents(deps, model, loaded.state, ref)
  const { id: annotationId, requestHash } = identifyCreate({
    key: idempotencyKey,
    caller: principal.subject,
    scope: `registry.${model}.${version}.annotation`,
    request: input,
    newId: deps.newId,
  })
  const outcome = await handleCommand(
    deps.store,
    modelDecider,
    modelSubject(deps.names, model),
    {
      type: 'AnnotateVersion',
      data: {
        model,
        version,
        annotationId,
        kind: input.kind ?? 'note',
        text: input.text,
        ...(input.data !== undefined ? { data: input.data } : {}),
        now: deps.now(),
        ...(requestHash !== undefined ? { requestHash } : {}),
      },
    },
    { actor: principal, guard: (state) => assertModelAccess(state, principal, model, 'write') },
  )
  return { version, annotationId, position: outcome.position }
}
