import type { ReleaseChangedData } from '@argmax/contracts'

/**
 * The release aggregate, subject `registry.release.<name>`: what serves a model's traffic. Its
 * one event is the published `ReleaseChanged` (`@argmax/contracts`): the inference gateway
 * follows the subject and switches without restarting. Every change — a PUT, a rollback, the
 * bootstrap from configuration, the model's deletion — is one event with who (`changedBy`,
 * also the envelope's actor), when and why; the subject is the release history.
 */
export interface ReleaseChanged {
  type: 'ReleaseChanged'
  data: ReleaseChangedData
}

export type ReleaseEvent = ReleaseChanged & { id?: string }

export const RELEASE_EVENT_TYPES = ['ReleaseChanged'] as const satisfies ReadonlyArray<
  ReleaseEvent['type']
>
