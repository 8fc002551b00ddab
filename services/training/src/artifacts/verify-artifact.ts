import { InferenceSession, Tensor } from 'onnxruntime-node'
import {
  ONNX_TYPE_OF,
  TENSOR_DATATYPES,
  type ModelSignature,
  type TensorSpec,
} from '@argmax/contracts'

/**
 * The check a run's artifact passes before the run may become READY: `model.onnx`, loaded in
 * onnxruntime-node (the runtime the model servers use), must take the inputs and give the
 * outputs `schema.json` declares, and reproduce the trainer's own predictions for the rows in
 * `predictions-sample.jsonl` — built-in and custom trainers alike. A failure is a list of
 * precise problems (which row, which output, expected vs got); the training service fails the
 * run as `artifact_mismatch` with it.
 */

/** |got − expected| ≤ tolerance · max(1, |expected|): absolute up to 1, relative beyond. */
export const DEFAULT_TOLERANCE = 1e-4
const MAX_PROBLEMS = 20

export interface ArtifactFiles {
  /** The bytes of `model.onnx`. */
  model: Uint8Array
  /** The text of `schema.json` (a ModelSignature). */
  schema: string
  /** The text of `predictions-sample.jsonl`. */
  sample: string
}

export type ArtifactProblemCode =
  | 'invalid_schema'
  | 'invalid_model'
  | 'invalid_sample'
  | 'input_mismatch'
  | 'output_mismatch'
  | 'inference_failed'
  | 'prediction_mismatch'

export interface ArtifactProblem {
  code: ArtifactProblemCode
  message: string
  /** 1-based line of predictions-sample.jsonl. */
  line?: number
  /** The record index the trainer gave the sample row (`row`), when it did. */
  row?: number
  input?: string
  output?: string
  /** Position inside a row's output (a probability's class index). */
  index?: number
  expected?: unknown
  got?: unknown
}

export type ArtifactVerdict =
  | {
      ok: true
      rows: number
      outputs: string[]
      /** The largest |got − expected| / max(1, |expected|) over every numeric output value. */
      maxError: number
    }
  | { ok: false; problems: ArtifactProblem[]; problemCount: number }

export interface VerifyOptions {
  tolerance?: number
}

interface SampleRow {
  line: number
  row?: number
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}

class Problems {
  readonly list: ArtifactProblem[] = []
  count = 0
  add(problem: ArtifactProblem): void {
    this.count++
    if (this.list.length < MAX_PROBLEMS) this.list.push(problem)
  }
  get empty(): boolean {
    return this.count === 0
  }
  verdict(): ArtifactVerdict {
    return { ok: false, problems: this.list, problemCount: this.count }
  }
}

export async function verifyArtifact(
  files: ArtifactFiles,
  options: VerifyOptions = {},
): Promise<ArtifactVerdict> {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE
  const problems = new Problems()

  const signature = parseSignature(files.schema, problems)
  const rows = parseSample(files.sample, problems)
  if (!signature || !rows) return problems.verdict()

  let session: InferenceSession
  try {
    session = await InferenceSession.create(files.model)
  } catch (error) {
    problems.add({
      code: 'invalid_model',
      message: `model.onnx cannot be loaded by onnxruntime: ${errorText(error)}`,
    })
    return problems.verdict()
  }
  try {
    checkGraph(session, signature, problems)
    if (!problems.empty) return problems.verdict()
    const feeds = buildFeeds(signature, rows, problems)
    if (!feeds) return problems.verdict()
    let results: InferenceSession.ReturnType
    try {
      results = await session.run(
        feeds,
        signature.outputs.map((o) => o.name),
      )
    } catch (error) {
      problems.add({
        code: 'inference_failed',
        message: `onnxruntime failed on the sample's ${rows.length} rows: ${errorText(error)}`,
      })
      return problems.verdict()
    }
    const maxError = compareOutputs(signature, rows, results, tolerance, problems)
    if (!problems.empty) return problems.verdict()
    return { ok: true, rows: rows.length, outputs: signature.outputs.map((o) => o.name), maxError }
  } finally {
    await session.release()
  }
}

/**
 * The input tensors of `signature` for rows of inputs as the model's tensors take them (the
 * sample's and the holdout's shape: a number or null for FP32, the text or null for BYTES).
 * Throws an error naming the problems (an input a row lacks, a value a tensor cannot hold).
 */
export function inputFeeds(
  signature: ModelSignature,
  inputs: ReadonlyArray<Record<string, unknown>>,
  where: { file: string; firstLine: number },
): Record<string, Tensor> {
  const problems = new Problems()
  const feeds = buildFeeds(
    signature,
    inputs.map((row, i) => ({ line: where.firstLine + i, inputs: row, outputs: {} })),
    problems,
    where.file,
  )
  if (!feeds) throw new Error(describeProblems(problems.verdict()))
  return feeds
}

/** A one-paragraph summary of a failed verdict, for a run's failure reason. */
export function describeProblems(verdict: ArtifactVerdict): string {
  if (verdict.ok) return 'the artifact reproduces the sample'
  const shown = verdict.problems.map((p) => p.message).join('; ')
  const more = verdict.problemCount - verdict.problems.length
  return more > 0 ? `${shown}; and ${more} more` : shown
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function parseSignature(text: string, problems: Problems): ModelSignature | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    problems.add({
      code: 'invalid_schema',
      message: `schema.json is not JSON: ${errorText(error)}`,
    })
    return undefined
  }
  const bad = (message: string) => {
    problems.add({ code: 'invalid_schema', message: `schema.json: ${message}` })
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return bad('not an object')
  const s = raw as Partial<ModelSignature>
  if (s.task !== 'regression' && s.task !== 'classification') {
    return bad(`task must be regression or classification, not ${JSON.stringify(s.task)}`)
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const specs = s[side]
    if (!Array.isArray(specs) || specs.length === 0) return bad(`${side} must be a non-empty list`)
    const names = new Set<string>()
    for (const [i, spec] of specs.entries()) {
      if (typeof spec?.name !== 'string' || spec.name === '')
        return bad(`${side}[${i}] has no name`)
      if (names.has(spec.name)) return bad(`${side} name '${spec.name}' twice`)
      names.add(spec.name)
      if (!TENSOR_DATATYPES.includes(spec.datatype)) {
        return bad(`${side} '${spec.name}' has datatype ${JSON.stringify(spec.datatype)}`)
      }
      if (
        !Array.isArray(spec.shape) ||
        spec.shape.length === 0 ||
        !spec.shape.every((d) => Number.isInteger(d) && (d === -1 || d > 0))
      ) {
        return bad(`${side} '${spec.name}' has shape ${JSON.stringify(spec.shape)}`)
      }
    }
  }
  if (s.task === 'classification' && (!Array.isArray(s.classes) || s.classes.length < 2)) {
    return bad('a classification signature lists at least two classes')
  }
  return s as ModelSignature
}

function parseSample(text: string, problems: Problems): SampleRow[] | undefined {
  const rows: SampleRow[] = []
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    const bad = (message: string) =>
      problems.add({
        code: 'invalid_sample',
        line: i + 1,
        message: `predictions-sample.jsonl line ${i + 1}: ${message}`,
      })
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch (error) {
      bad(`not JSON (${errorText(error)})`)
      continue
    }
    const r = raw as Partial<SampleRow>
    if (typeof r !== 'object' || r === null || typeof r.inputs !== 'object' || r.inputs === null) {
      bad('needs an object "inputs"')
      continue
    }
    if (typeof r.outputs !== 'object' || r.outputs === null) {
      bad('needs an object "outputs"')
      continue
    }
    rows.push({
      line: i + 1,
      ...(typeof r.row === 'number' ? { row: r.row } : {}),
      inputs: r.inputs,
      outputs: r.outputs,
    })
  }
  if (rows.length === 0 && problems.empty) {
    problems.add({
      code: 'invalid_sample',
      message: 'predictions-sample.jsonl holds no rows to check',
    })
  }
  return problems.empty ? rows : undefined
}

function checkGraph(
  session: InferenceSession,
  signature: ModelSignature,
  problems: Problems,
): void {
  const sides = [
    ['input', signature.inputs, session.inputMetadata, 'input_mismatch'],
    ['output', signature.outputs, session.outputMetadata, 'output_mismatch'],
  ] as const
  for (const [side, specs, metadata, code] of sides) {
    const graph = new Map(metadata.map((m) => [m.name, m]))
    for (const spec of specs) {
      const found = graph.get(spec.name)
      if (!found) {
        problems.add({
          code,
          [side]: spec.name,
          message:
            `schema.json names ${side} '${spec.name}', the model has no such ${side} ` +
            `(its ${side}s: ${[...graph.keys()].map((n) => `'${n}'`).join(', ')})`,
        })
        continue
      }
      if (!found.isTensor) {
        problems.add({
          code,
          [side]: spec.name,
          message: `the model's ${side} '${spec.name}' is not a tensor`,
        })
        continue
      }
      const want = ONNX_TYPE_OF[spec.datatype]
      if (found.type !== want) {
        problems.add({
          code,
          [side]: spec.name,
          expected: spec.datatype,
          got: found.type,
          message: `${side} '${spec.name}': schema.json says ${spec.datatype}, the model has ${found.type}`,
        })
      }
      if (found.shape.length > 0 && found.shape.length !== spec.shape.length) {
        problems.add({
          code,
          [side]: spec.name,
          expected: spec.shape,
          got: found.shape,
          message: `${side} '${spec.name}': schema.json's shape ${JSON.stringify(spec.shape)} has ${spec.shape.length} dimensions, the model's ${JSON.stringify(found.shape)} ${found.shape.length}`,
        })
      } else {
        found.shape.forEach((d, i) => {
          const declared = spec.shape[i]
          if (typeof d === 'number' && d > 0 && declared !== -1 && declared !== d) {
            problems.add({
              code,
              [side]: spec.name,
              expected: spec.shape,
              got: found.shape,
              message: `${side} '${spec.name}': dimension ${i} is ${declared} in schema.json, ${d} in the model`,
            })
          }
        })
      }
    }
    if (side === 'input') {
      const declared = new Set(specs.map((s) => s.name))
      for (const name of graph.keys()) {
        if (!declared.has(name)) {
          problems.add({
            code,
            input: name,
            message: `the model takes input '${name}', which schema.json does not declare`,
          })
        }
      }
    }
  }
}

/** Every input as one tensor holding all sample rows (null = missing: NaN, or '' for BYTES). */
function buildFeeds(
  signature: ModelSignature,
  rows: SampleRow[],
  problems: Problems,
  file = 'predictions-sample.jsonl',
): Record<string, Tensor> | undefined {
  const feeds: Record<string, Tensor> = {}
  for (const spec of signature.inputs) {
    const inner = spec.shape.slice(1)
    if (inner.some((d) => d === -1)) {
      problems.add({
        code: 'invalid_schema',
        input: spec.name,
        message: `input '${spec.name}': only the first (batch) dimension may be variable`,
      })
      continue
    }
    const perRow = inner.reduce((a, b) => a * b, 1)
    const values: unknown[] = []
    for (const row of rows) {
      if (!(spec.name in row.inputs)) {
        problems.add({
          code: 'invalid_sample',
          line: row.line,
          ...(row.row !== undefined ? { row: row.row } : {}),
          input: spec.name,
          message: `${file} line ${row.line} has no value for input '${spec.name}'`,
        })
        continue
      }
      const cell = row.inputs[spec.name]
      const flat = Array.isArray(cell) ? cell.flat(Infinity) : [cell]
      if (flat.length !== perRow) {
        problems.add({
          code: 'invalid_sample',
          line: row.line,
          input: spec.name,
          message: `${file} line ${row.line}, input '${spec.name}': ${flat.length} values, the shape needs ${perRow}`,
        })
        continue
      }
      values.push(...flat)
    }
    const tensor = toTensor(spec, values, [rows.length, ...inner], problems)
    if (tensor) feeds[spec.name] = tensor
  }
  return problems.empty ? feeds : undefined
}

function toTensor(
  spec: TensorSpec,
  values: unknown[],
  dims: number[],
  problems: Problems,
): Tensor | undefined {
  const type = ONNX_TYPE_OF[spec.datatype]
  const invalid = (value: unknown) =>
    problems.add({
      code: 'invalid_sample',
      input: spec.name,
      message: `input '${spec.name}' (${spec.datatype}) cannot hold ${JSON.stringify(value)}`,
    })
  switch (type) {
    case 'string':
      return new Tensor(
        'string',
        values.map((v) => (v === null ? '' : typeof v === 'string' ? v : (invalid(v), ''))),
        dims,
      )
    case 'bool':
      return new Tensor(
        'bool',
        Uint8Array.from(
          values.map((v) =>
            v === true || v === 1 ? 1 : v === false || v === 0 ? 0 : (invalid(v), 0),
          ),
        ),
        dims,
      )
    case 'float32':
    case 'float64': {
      const nums = values.map((v) =>
        v === null ? Number.NaN : typeof v === 'number' ? v : (invalid(v), 0),
      )
      return new Tensor(
        type,
        type === 'float32' ? Float32Array.from(nums) : Float64Array.from(nums),
        dims,
      )
    }
    case 'int64':
    case 'uint64':
      return new Tensor(
        type,
        (type === 'int64' ? BigInt64Array : BigUint64Array).from(
          values.map((v) => (Number.isInteger(v) ? BigInt(v as number) : (invalid(v), 0n))),
        ),
        dims,
      )
    default: {
      const ints = values.map((v) => (Number.isInteger(v) ? (v as number) : (invalid(v), 0)))
      const arrays = {
        int8: Int8Array,
        uint8: Uint8Array,
        int16: Int16Array,
        uint16: Uint16Array,
        int32: Int32Array,
        uint32: Uint32Array,
      } as const
      if (!(type in arrays)) {
        problems.add({
          code: 'invalid_schema',
          input: spec.name,
          message: `input '${spec.name}': ${spec.datatype} is not supported`,
        })
        return undefined
      }
      return new Tensor(type, arrays[type as keyof typeof arrays].from(ints), dims)
    }
  }
}

function compareOutputs(
  signature: ModelSignature,
  rows: SampleRow[],
  results: InferenceSession.ReturnType,
  tolerance: number,
  problems: Problems,
): number {
  let maxError = 0
  for (const spec of signature.outputs) {
    const tensor = results[spec.name]!
    if (tensor.dims[0] !== rows.length) {
      problems.add({
        code: 'output_mismatch',
        output: spec.name,
        message: `output '${spec.name}' has ${tensor.dims[0]} rows for ${rows.length} sample rows (dims ${JSON.stringify(tensor.dims)})`,
      })
      continue
    }
    const perRow = tensor.dims.slice(1).reduce((a, b) => a * b, 1)
    const data = tensor.data as ArrayLike<number | bigint | string>
    for (const [r, row] of rows.entries()) {
      const where = {
        line: row.line,
        ...(row.row !== undefined ? { row: row.row } : {}),
        output: spec.name,
      }
      const rowName =
        row.row !== undefined ? `row ${row.row} (line ${row.line})` : `line ${row.line}`
      if (!(spec.name in row.outputs)) {
        problems.add({
          code: 'invalid_sample',
          ...where,
          message: `predictions-sample.jsonl ${rowName} has no expected value for output '${spec.name}'`,
        })
        continue
      }
      const expectedRaw = row.outputs[spec.name]
      const expected = Array.isArray(expectedRaw) ? expectedRaw.flat(Infinity) : [expectedRaw]
      const got = Array.from({ length: perRow }, (_, k) => data[r * perRow + k]!)
      if (expected.length !== perRow) {
        problems.add({
          code: 'prediction_mismatch',
          ...where,
          expected: expectedRaw,
          got: got.map(plain),
          message: `${rowName}, output '${spec.name}': expected ${expected.length} values, the model gave ${perRow}`,
        })
        continue
      }
      for (let k = 0; k < perRow; k++) {
        const e = expected[k]
        const g = got[k]!
        if (typeof g === 'string') {
          if (e !== g && !isTie(signature, spec, results, r, e, g, tolerance)) {
            problems.add({
              code: 'prediction_mismatch',
              ...where,
              ...(perRow > 1 ? { index: k } : {}),
              expected: e,
              got: g,
              message: `${rowName}, output '${spec.name}': expected ${JSON.stringify(e)}, got ${JSON.stringify(g)}`,
            })
          }
          continue
        }
        const gv = Number(g)
        if (typeof e !== 'number' && !(e === null && Number.isNaN(gv))) {
          problems.add({
            code: 'invalid_sample',
            ...where,
            message: `${rowName}, output '${spec.name}': expected value ${JSON.stringify(e)} is not a number`,
          })
          continue
        }
        if (e === null) continue
        const error = Math.abs(gv - e) / Math.max(1, Math.abs(e))
        if (!(error <= tolerance)) {
          problems.add({
            code: 'prediction_mismatch',
            ...where,
            ...(perRow > 1 ? { index: k } : {}),
            expected: e,
            got: gv,
            message:
              `${rowName}, output '${spec.name}'${perRow > 1 ? `[${k}]` : ''}: expected ${e}, got ${gv} ` +
              `(difference ${Math.abs(gv - e).toExponential(2)}, tolerance ${tolerance} · max(1, |expected|))`,
          })
        } else if (error > maxError) {
          maxError = error
        }
      }
    }
  }
  return maxError
}

/**
 * A label that differs only because two classes' probabilities are equal within the tolerance
 * is not a mismatch: float32 and float64 may break such a tie differently.
 */
function isTie(
  signature: ModelSignature,
  spec: TensorSpec,
  results: InferenceSession.ReturnType,
  r: number,
  expected: unknown,
  got: string,
  tolerance: number,
): boolean {
  if (spec.name !== 'label' || !signature.classes || !results.probabilities) return false
  const classes = signature.classes
  const i = classes.indexOf(String(expected))
  const j = classes.indexOf(got)
  if (i < 0 || j < 0) return false
  const probabilities = results.probabilities.data as Float32Array
  const c = classes.length
  return Math.abs(probabilities[r * c + i]! - probabilities[r * c + j]!) <= tolerance
}

function plain(value: number | bigint | string): number | string {
  return typeof value === 'bigint' ? Number(value) : value
}
