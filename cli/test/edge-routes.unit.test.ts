import { describe, expect, it } from 'vitest'
import { routeFor } from '../src/stack/edge-routes.ts'

describe('routeFor', () => {
  it.each([
    ['/v1/datasets', 'dataset'],
    ['/v1/datasets/01J/versions?limit=5', 'dataset'],
    ['/v1/runs', 'training'],
    ['/v1/runs/abc/cancel', 'training'],
    ['/v1/pipelines/p1', 'training'],
    ['/v1/models', 'registry'],
    ['/v1/models/movies/versions/3', 'registry'],
    ['/v1/models/movies/release/rollback', 'registry'],
    ['/v1/rollouts', 'registry'],
    ['/v1/rollouts/r1/approve', 'registry'],
    ['/v1/models/movies:predict', 'inference'],
    ['/v1/models/movies:predict?explain=1', 'inference'],
    ['/v2/models/movies/infer', 'inference'],
    ['/v2', 'inference'],
    ['/v1/feedback', 'feedback'],
    ['/v1/feedback/batch', 'feedback'],
  ])('%s → %s', (url, service) => {
    expect(routeFor(url)).toBe(service)
  })

  it.each([
    '/',
    '/healthz',
    '/v1',
    '/v1/datasetsx',
    '/v1/modelsfoo',
    '/v1/rolloutsx',
    '/v2x/models',
    '/v1/models/a/b:predict/../../../runs',
    '/v1/datasets/../runs',
    '/v3/models',
  ])('%s has no owner', (url) => {
    expect(routeFor(url)).toBeUndefined()
  })

  it('sends a model version path that merely contains :predict further down to the registry', () => {
    expect(routeFor('/v1/models/movies/versions/1:predict')).toBe('registry')
  })
})
