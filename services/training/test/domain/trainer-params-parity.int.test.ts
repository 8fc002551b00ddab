import { execFileSync } from 'node:child_process'
import type { ValidationError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import { resolveTrainerParams } from '../../src/domain/index.ts'
import { PYTHON, TRAINERS_DIR } from '../trainers/support.ts'

/**
 * The service refuses a bad parameter at submission with the trainer's own words: both read
 * trainers/argmax_trainers/params.json. This runs the same cases through the Python trainer's
 * params.py (Debian's interpreter) and compares the resolved values and refusals.
 */
const cases: Array<
  [
    trainer: 'xgboost' | 'linear',
    task: 'regression' | 'classification',
    params: Record<string, unknown>,
  ]
> = [
  ['xgboost', 'regression', {}],
  ['xgboost', 'regression', { eta: 0.3, num_boost_round: 10 }],
  ['xgboost', 'classification', { max_depth: 3, early_stopping_rounds: null, nthread: 2 }],
  ['xgboost', 'regression', { max_dept: 3 }],
  ['xgboost', 'regression', { max_depth: 0 }],
  ['xgboost', 'regression', { max_depth: 2.5 }],
  ['xgboost', 'regression', { learning_rate: 0 }],
  ['xgboost', 'regression', { subsample: 'half' }],
  ['xgboost', 'regression', { eta: 0.1, learning_rate: 0.2 }],
  ['xgboost', 'regression', { max_bin: 5000 }],
  ['xgboost', 'regression', { reg_lambda: -1 }],
  ['linear', 'regression', { penalty: 'l3' }],
  ['linear', 'classification', { alpha: 1 }],
  ['linear', 'classification', { C: 0 }],
  ['linear', 'regression', { tol: 1.5, max_iter: 10 }],
  ['linear', 'regression', { l1_ratio: 0.2, penalty: 'elasticnet' }],
]

type Outcome =
  { ok: true; params: Record<string, unknown> } | { ok: false; parameter: string; message: string }

function viaTypeScript(
  trainer: 'xgboost' | 'linear',
  task: 'regression' | 'classification',
  params: Record<string, unknown>,
): Outcome {
  try {
    return { ok: true, params: resolveTrainerParams(trainer, task, params) }
  } catch (error) {
    const issue = (error as ValidationError).issues[0]!
    return {
      ok: false,
      parameter: issue.field.replace(/^\//, '').replace('/', '.'),
      message: issue.message,
    }
  }
}

describe('trainer parameters: the service and the trainer agree', () => {
  it('resolves and refuses every case alike', () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(TRAINERS_DIR)})
from argmax_trainers.errors import UserError
from argmax_trainers.params import resolve_trainer_params
out = []
for trainer, task, params in json.loads(sys.stdin.read()):
    try:
        out.append({"ok": True, "params": resolve_trainer_params(trainer, task, params)})
    except UserError as e:
        out.append({"ok": False, "parameter": e.parameter, "message": e.message})
print(json.dumps(out))
`
    const python = JSON.parse(
      execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' }),
    ) as Outcome[]
    expect(cases.map(([t, task, p]) => viaTypeScript(t, task, p))).toEqual(python)
  })
})
