import type { ServiceName } from './services.ts'

/**
 * Which service answers a public path: the same table as the Ingress in
 * deploy/kustomize/base/ingress.yaml. Order matters: the first match wins, so the inference
 * `:predict` route sits before registry's `/v1/models` prefix.
 */
export const edgeRoutes: ReadonlyArray<{ pattern: RegExp; service: ServiceName }> = [
  { pattern: /^\/v1\/datasets(\/|$)/, service: 'dataset' },
  { pattern: /^\/v1\/runs(\/|$)/, service: 'training' },
  { pattern: /^\/v1\/pipelines(\/|$)/, service: 'training' },
  { pattern: /^\/v1\/models\/[^/]+:predict$/, service: 'inference' },
  { pattern: /^\/v1\/models(\/|$)/, service: 'registry' },
  { pattern: /^\/v1\/rollouts(\/|$)/, service: 'registry' },
  { pattern: /^\/v2(\/|$)/, service: 'inference' },
  { pattern: /^\/v1\/feedback(\/|$)/, service: 'feedback' },
]

/** The service for a request URL (path plus optional query), or undefined when none owns it. */
export function routeFor(url: string): ServiceName | undefined {
  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  // `..` segments would let a path select one service's prefix and reach another's routes.
  if (path.split('/').some((segment) => segment === '..' || segment === '.')) return undefined
  return edgeRoutes.find(({ pattern }) => pattern.test(path))?.service
}
