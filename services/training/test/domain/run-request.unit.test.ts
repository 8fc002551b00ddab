import { ValidationError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import {
  planRun,
  resolveTrainerParams,
  type RunRequest,
  type SchemaColumn,
} from '../../src/domain/index.ts'

const schema: SchemaColumn[] = [
  { name: 'Title', type: 'string', nullable: false },
  { name: 'IMDB Rating', type: 'float', nullable: true },
  { name: 'Major Genre', type: 'string', nullable: true },
  { name: 'Release Date', type: 'timestamp', nullable: true },
  { name: 'Votes', type: 'integer', nullable: true },
]
const base: RunRequest = {
  model: 'movies-rating',
  datasetVersionId: 'v1',
  target: 'IMDB Rating',
  trainer: 'xgboost',
}

function issue(request: Partial<RunRequest>): { field: string; message: string } {
  try {
    planRun({ ...base, ...request }, schema)
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.at(-1)!
    throw error
  }
  throw new Error('accepted')
}

describe('planning a run against the version schema', () => {
  it('infers the task from the target and takes every other usable column', () => {
    const plan = planRun(base, schema)
    expect(plan).toMatchObject({
      task: 'regression',
      features: ['Title', 'Major Genre', 'Votes'],
      featuresGiven: false,
      seed: 0,
    })
    expect(planRun({ ...base, target: 'Major Genre' }, schema).task).toBe('classification')
  })

  it('names the field of every refusal', () => {
    expect(issue({ target: 'Rating' })).toMatchObject({
      field: '/target',
      message: expect.stringContaining("column 'Rating' is not in the dataset version"),
    })
    expect(issue({ target: 'Release Date' }).field).toBe('/target')
    expect(issue({ target: 'Title', task: 'regression' })).toMatchObject({
      field: '/task',
      message: expect.stringContaining('regression needs numbers'),
    })
    expect(issue({ task: 'classification' })).toMatchObject({ field: '/task' })
    expect(issue({ features: ['Votes', 'Nope'] }).field).toBe('/features/1')
    expect(issue({ features: ['IMDB Rating'] }).field).toBe('/features/0')
    expect(issue({ features: ['Release Date'] }).message).toContain('timestamps')
    expect(issue({ model: 'Movies Rating' }).field).toBe('/model')
    expect(issue({ params: { max_dept: 3 } })).toMatchObject({
      field: '/params/max_dept',
      message: expect.stringContaining("unknown xgboost parameter 'params.max_dept'"),
    })
    expect(issue({ params: { max_depth: 100 } })).toEqual({
      field: '/params/max_depth',
      message: "'params.max_depth' must be an integer in [1, 32], not 100",
    })
    expect(issue({ trainer: 'custom' }).field).toBe('/image')
    expect(issue({ trainer: 'custom', image: 'ghcr.io/x/y:1' }).field).toBe('/command')
    expect(issue({ image: 'ghcr.io/x/y:1' }).field).toBe('/image')
    expect(issue({ resources: { gpus: 0, gpuProfile: 'nvidia.com/mig-1g.5gb' } }).field).toBe(
      '/resources/gpuProfile',
    )
  })

  it('checks trainer parameters like the trainer: ranges, aliases, tasks', () => {
    expect(
      resolveTrainerParams('xgboost', 'regression', { eta: 0.3, num_boost_round: 10 }),
    ).toMatchObject({ learning_rate: 0.3, n_estimators: 10, max_depth: 6 })
    expect(resolveTrainerParams('linear', 'classification', {})).not.toHaveProperty('alpha')
    const refused = (
      trainer: 'xgboost' | 'linear',
      task: 'regression' | 'classification',
      params: Record<string, unknown>,
    ) => {
      try {
        resolveTrainerParams(trainer, task, params)
      } catch (error) {
        return (error as ValidationError).issues[0]!
      }
      throw new Error('accepted')
    }
    expect(refused('xgboost', 'regression', { learning_rate: 0 }).message).toBe(
      "'params.learning_rate' must be a number in (0, 1], not 0",
    )
    expect(refused('xgboost', 'regression', { max_depth: 2.5 }).field).toBe('/params/max_depth')
    expect(refused('xgboost', 'regression', { subsample: 'half' }).message).toBe(
      '\'params.subsample\' must be a number in (0, 1], not "half"',
    )
    expect(refused('xgboost', 'regression', { eta: 0.1, learning_rate: 0.2 }).message).toContain(
      'same parameter',
    )
    expect(refused('linear', 'regression', { penalty: 'l3' }).message).toBe(
      "'params.penalty' must be one of 'l2', 'l1', 'elasticnet', 'none', not \"l3\"",
    )
    expect(refused('linear', 'classification', { alpha: 1 }).message).toBe(
      "'params.alpha' does not apply to classification with the linear trainer",
    )
    expect(
      resolveTrainerParams('xgboost', 'regression', { early_stopping_rounds: null })
        .early_stopping_rounds,
    ).toBeNull()
  })
})
