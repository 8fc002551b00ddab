import type { StreamSpec } from '@argmax/events'

/** The registry context's event stream (DESIGN: one stream per context, `<context>.<aggregate>.<id>`). */
export const REGISTRY_STREAM = 'REGISTRY'

/**
 * Model, version, release and rollout events: what is served is decided here, and the
 * inference gateway follows these events to switch traffic without restarting.
 */
export function registryStreams(replicas: number): StreamSpec[] {
  return [{ name: REGISTRY_STREAM, subjects: ['registry.>'], retention: 'limits', replicas }]
}
