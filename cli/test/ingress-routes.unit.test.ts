import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { edgeRoutes, routeFor } from '../src/stack/edge-routes.ts'
import { repoRoot } from '../src/stack/paths.ts'

interface IngressPath {
  path: string
  pathType: 'Prefix' | 'ImplementationSpecific'
  backend: { service: { name: string } }
}

const ingress = parse(
  readFileSync(join(repoRoot, 'deploy/kustomize/base/ingress.yaml'), 'utf8'),
) as {
  spec: { rules: Array<{ http: { paths: IngressPath[] } }> }
}
const paths = ingress.spec.rules[0]!.http.paths

/** A URL the Ingress path matches: its regex's `[^/]+` made a name, a prefix extended. */
function exampleOf(path: IngressPath): string {
  if (path.pathType === 'Prefix') return `${path.path.replace(/\/$/, '')}/example`
  return path.path.replaceAll('[^/]+', 'movies').replace(/\$$/, '')
}

/** A URL each edge route matches (the same table the edge-routes test walks). */
const edgeExamples = [
  '/v1/datasets/x',
  '/v1/runs/x',
  '/v1/pipelines/x',
  '/v1/models/movies:predict',
  '/v1/batch-predictions/x',
  '/v1/models/movies',
  '/v1/rollouts/movies.1',
  '/v2/models/movies/infer',
  '/v1/feedback/x',
  '/v1/quality/x',
  '/v1/monitors/x',
]

describe('the Ingress and the local edge route alike', () => {
  it.each(paths.map((p) => [p.path, p]))(
    'ingress %s goes where the edge sends it',
    (_path, path) => {
      expect(routeFor(exampleOf(path as IngressPath))).toBe(
        (path as IngressPath).backend.service.name,
      )
    },
  )

  it('has an Ingress path for every edge route, to the same service', () => {
    expect(edgeExamples).toHaveLength(edgeRoutes.length)
    for (const url of edgeExamples) {
      const service = routeFor(url)
      const route = edgeRoutes.find((r) => r.pattern.test(url))!
      expect(route.service, url).toBe(service)
      const matching = paths.filter((p) =>
        p.pathType === 'Prefix'
          ? url.startsWith(p.path.replace(/\/$/, ''))
          : new RegExp(`^${p.path}`).test(url),
      )
      // nginx prefers the longest match: the most specific Ingress path decides.
      const chosen = matching.sort((a, b) => b.path.length - a.path.length)[0]
      expect(chosen?.backend.service.name, url).toBe(service)
    }
  })
})
