import { ValidationError } from '@argmax/errors'
import tables from '../../trainers/argmax_trainers/params.json' with { type: 'json' }
import type { BuiltinTrainerName } from './run.types.ts'
import type { ModelTask } from '@argmax/contracts'

/**
 * The built-in trainers' hyper-parameters, checked at submission exactly as the trainer checks
 * them (`trainers/argmax_trainers/params.py`): both read the one declaration,
 * `trainers/argmax_trainers/params.json`, and word their refusals alike. A bad parameter is
 * a 400 naming `/params/<name>` before anything is written, not a failed run an hour later.
 */
export interface ParamSpec {
  kind: 'int' | 'float' | 'choice' | 'int_or_none'
  default: unknown
  low?: number
  high?: number
  lowOpen?: boolean
  choices?: string[]
  aliases?: string[]
  tasks?: ModelTask[]
  help?: string
}

export const TRAINER_PARAMS = {
  xgboost: tables.xgboost as Record<string, ParamSpec>,
  linear: tables.linear as Record<string, ParamSpec>,
} satisfies Record<BuiltinTrainerName, Record<string, ParamSpec>>

export const SEED_RANGE = { low: tables.job.seed.low, high: tables.job.seed.high }
export const CHECKPOINT_EVERY_RANGE = {
  low: tables.job.checkpointEvery.low,
  high: tables.job.checkpointEvery.high,
}

const ALL_TASKS: ModelTask[] = ['regression', 'classification']

function refuse(key: string, message: string): ValidationError {
  return ValidationError.field(`/params/${key}`, message)
}

/**
 * Checks `given` against the trainer's table for `task`; returns every parameter with its
 * value (defaults filled), as the trainer resolves them.
 */
export function resolveTrainerParams(
  trainer: BuiltinTrainerName,
  task: ModelTask,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const spec = TRAINER_PARAMS[trainer]
  const byAlias = new Map<string, string>()
  for (const [name, p] of Object.entries(spec)) {
    byAlias.set(name, name)
    for (const alias of p.aliases ?? []) byAlias.set(alias, name)
  }
  const seen = new Map<string, string>()
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(given)) {
    const name = byAlias.get(key)
    if (name === undefined) {
      const known = [...byAlias.keys()].sort().join(', ')
      throw refuse(key, `unknown ${trainer} parameter 'params.${key}' (known: ${known})`)
    }
    const earlier = seen.get(name)
    if (earlier !== undefined) {
      throw refuse(key, `'params.${key}' and 'params.${earlier}' are the same parameter: give one`)
    }
    seen.set(name, key)
    const p = spec[name]!
    if (!(p.tasks ?? ALL_TASKS).includes(task)) {
      throw refuse(key, `'params.${key}' does not apply to ${task} with the ${trainer} trainer`)
    }
    out[name] = check(key, p, value)
  }
  for (const [name, p] of Object.entries(spec)) {
    if (!(name in out)) out[name] = p.default
  }
  return Object.fromEntries(
    Object.entries(out).filter(([name]) => (spec[name]!.tasks ?? ALL_TASKS).includes(task)),
  )
}

function check(key: string, p: ParamSpec, value: unknown): unknown {
  const label = `params.${key}`
  const fail = (expected: string) =>
    refuse(key, `'${label}' must be ${expected}, not ${JSON.stringify(value)}`)
  if (p.kind === 'choice') {
    if (typeof value !== 'string' || !(p.choices ?? []).includes(value)) {
      throw fail(`one of ${(p.choices ?? []).map((c) => `'${c}'`).join(', ')}`)
    }
    return value
  }
  if (p.kind === 'int_or_none' && value === null) return null
  const isNumber = typeof value === 'number' && Number.isFinite(value)
  if (p.kind === 'int' || p.kind === 'int_or_none') {
    if (!isNumber || !Number.isInteger(value)) throw fail(`an integer${range(p)}`)
  } else if (!isNumber) {
    throw fail(`a number${range(p)}`)
  }
  const n = value as number
  const lowOk = p.low === undefined || (p.lowOpen ? n > p.low : n >= p.low)
  const highOk = p.high === undefined || n <= p.high
  if (!lowOk || !highOk) throw fail(`${p.kind === 'float' ? 'a number' : 'an integer'}${range(p)}`)
  return n
}

function range(p: ParamSpec): string {
  if (p.low === undefined && p.high === undefined) return ''
  return ` in ${p.lowOpen ? '(' : '['}${fmt(p.low)}, ${fmt(p.high)}]`
}

function fmt(x: number | undefined): string {
  return x === undefined ? '∞' : String(x)
}
