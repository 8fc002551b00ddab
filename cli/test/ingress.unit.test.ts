import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { feedbackRoutes } from '../../services/feedback/src/api/contract.ts'
import { repoRoot } from '../src/stack/paths.ts'
import { edgeRoutes, routeFor } from '../src/stack/edge-routes.ts'

interface IngressPath {
  path: string
  pathType: string
  backend: { service: { name: string } }
}

const ingress = parse(
  readFileSync(join(repoRoot, 'deploy/kustomize/base/ingress.yaml'), 'utf8'),
) as { spec: { rules: Array<{ http: { paths: IngressPath[] } }> } }
const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths)

/**
 * What ingress-nginx does with `use-regex`: every path becomes a case-insensitive regex location
 * anchored at the start, tried longest first.
 */
function ingressRouteFor(url: string): string | undefined {
  const path = url.split('?')[0]!
  return [...paths]
    .sort((a, b) => b.path.length - a.path.length)
    .find((p) => new RegExp(`^${p.path}`, 'i').test(path))?.backend.service.name
}

/** A concrete URL for a route template: `:params` and `[^/]+` become a name. */
const example = (template: string) =>
  template
    .replace(/\/:[a-zA-Z]+/g, '/movies')
    .replace('[^/]+', 'movies')
    .replace(/\$$/, '')

describe('the Ingress and the local edge agree', () => {
  it.each(paths.map((p) => [p.path, p.backend.service.name]))(
    'Ingress path %s → %s at the edge too',
    (path, service) => {
      expect(routeFor(example(path))).toBe(service)
      expect(
        routeFor(`${example(path).replace(/\/$/, '')}/x`.replace(':predict/x', ':predict')),
      ).toBe(service)
    },
  )

  it.each(edgeRoutes.map((r) => [r.pattern.source, r.service]))(
    'edge route %s → %s has an Ingress path to the same service',
    (source, service) => {
      const prefix = source.endsWith('(\\/|$)')
      const url = example(source.replace(/^\^/, '').replace(/\\\//g, '/').replace('(/|$)', ''))
      expect(ingressRouteFor(prefix ? `${url}/x` : url)).toBe(service)
    },
  )

  it.each(Object.entries(feedbackRoutes).map(([name, route]) => [name, route.method, route.url]))(
    'feedback %s (%s %s) is routed to feedback by both',
    (_name, _method, url) => {
      expect(routeFor(example(url))).toBe('feedback')
      expect(ingressRouteFor(example(url))).toBe('feedback')
    },
  )
})
