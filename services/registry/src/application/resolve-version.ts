import { NotFoundError } from '@argmax/errors'
import { loadAggregate } from '@argmax/events'
import {
  latestVersion,
  parseVersionRef,
  releaseDecider,
  resolveVersionRef,
  type ModelState,
  type ReleaseState,
} from '../domain/index.ts'
import { releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'

/**
 * The version number a path's `{version}` names, from the events: a number as it is, an alias
 * as set, `champion` as the release's stable version, `latest` as the newest live version.
 */
export async function resolveVersionFromEvents(
  deps: Pick<RegistryDeps, 'store' | 'names'>,
  model: string,
  state: ModelState,
  text: string,
): Promise<{ version: number; release: ReleaseState }> {
  const ref = parseVersionRef(text)
  const { state: release } = await loadAggregate(
    deps.store,
    releaseDecider,
    releaseSubject(deps.names, model),
  )
  const version = resolveVersionRef(
    ref,
    { aliases: state.aliases, latest: latestVersion(state) },
    release.current?.stable,
  )
  if (version === undefined) throw new NotFoundError('version', `${model}/${text}`)
  return { version, release }
}
