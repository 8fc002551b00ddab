import { ConcurrencyError, IllegalStateError, NotFoundError } from '@argmax/errors'
import { handleCommand } from '@argmax/events'
import { releaseDecider } from '../domain/index.ts'
import { releaseSubject } from '../streams.ts'
import type { RegistryDeps } from './dependencies.ts'
import { gatherReleaseFacts } from './release-facts.ts'

export const BOOTSTRAP_ACTOR = 'system:bootstrap' as const

export type BootstrapOutcome =
  /** The release was appended now. */
  | { outcome: 'applied'; position: number }
  /** The model has (or had) a release: from then on releases decide, never the setting. */
  | { outcome: 'released_before' }
  /** Not possible yet (no such model or version, its artifact missing…): tried again later. */
  | { outcome: 'waiting'; reason: string }

/**
 * The bootstrap setting's one release for a model whose release never changed (seed 000's
 * environment fallback): decided on the release aggregate — only when it holds no event — with
 * the same checks as any release, by `system:bootstrap`, under an event id derived from the
 * model, so processes starting together append it once.
 */
export async function bootstrapRelease(
  deps: Pick<RegistryDeps, 'store' | 'names' | 'db' | 's3' | 'now'>,
  entry: { model: string; version: number },
): Promise<BootstrapOutcome> {
  try {
    const { facts, release } = await gatherReleaseFacts(deps, entry.model, () => [entry.version])
    if (release.changes > 0) return { outcome: 'released_before' }
    const outcome = await handleCommand(
      deps.store,
      releaseDecider,
      releaseSubject(deps.names, entry.model),
      {
        type: 'BootstrapRelease',
        data: { model: entry.model, stable: entry.version, facts, now: deps.now() },
      },
      { actor: BOOTSTRAP_ACTOR },
    )
    return outcome.written > 0
      ? { outcome: 'applied', position: outcome.position }
      : { outcome: 'released_before' }
  } catch (error) {
    if (
      error instanceof NotFoundError ||
      error instanceof IllegalStateError ||
      error instanceof ConcurrencyError
    ) {
      return { outcome: 'waiting', reason: error.message }
    }
    throw error
  }
}
