import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ModelSignature } from '@argmax/contracts'

/**
 * Real ONNX models for tests and benchmarks, generated with Debian's python3-onnx
 * (`onnx_models.py`) — `/usr/bin/python3`, since a `python3` earlier on PATH may lack Debian's
 * packages. `scripts/bootstrap.sh` installs python3-onnx.
 */

export const SYSTEM_PYTHON = '/usr/bin/python3'

const generator = fileURLToPath(new URL('./onnx_models.py', import.meta.url))

/** y = 2·x1 + 3·x2 + intercept; x1 may be missing (NaN → 0). */
export const LINEAR_SIGNATURE: ModelSignature = {
  task: 'regression',
  inputs: [
    { name: 'x1', datatype: 'FP32', shape: [-1], nullable: true, column: 'x1' },
    { name: 'x2', datatype: 'FP32', shape: [-1], nullable: false, column: 'x2' },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1], nullable: false, column: 'y' }],
}

/** rating = 10·code(genre) + 0.5·budget + 1, code: Drama 1, Comedy 2, else -1; budget may be missing. */
export const MIXED_SIGNATURE: ModelSignature = {
  task: 'regression',
  inputs: [
    {
      name: 'genre',
      datatype: 'BYTES',
      shape: [-1],
      nullable: false,
      column: 'genre',
      categories: ['Drama', 'Comedy'],
    },
    { name: 'budget', datatype: 'FP32', shape: [-1], nullable: true, column: 'budget' },
  ],
  outputs: [
    { name: 'rating', datatype: 'FP32', shape: [-1, 1], nullable: false, column: 'rating' },
  ],
}

/** What the linear model answers, in float32 arithmetic as ONNX Runtime computes it. */
export function linearExpected(x1: number, x2: number, intercept: number): number {
  return Math.fround(2 * (Number.isNaN(x1) ? 0 : x1) + 3 * x2 + intercept)
}

export function mixedExpected(genre: string, budget: number): number {
  const code = genre === 'Drama' ? 1 : genre === 'Comedy' ? 2 : -1
  return Math.fround(10 * code + 0.5 * (Number.isNaN(budget) ? 0 : budget) + 1)
}

export interface ModelFile {
  bytes: Buffer
  sha256: string
}

export interface TestModels {
  /** The linear model with each intercept asked for. */
  linear: Map<number, ModelFile>
  mixed: ModelFile
}

/**
 * The models made so far in this process: the generator's output depends on the intercepts
 * only, and the int project's files share one process, where each file asking python3-onnx for
 * the same few models again cost half a second of start-up.
 */
const made = { linear: new Map<number, ModelFile>(), mixed: undefined as ModelFile | undefined }

export async function writeTestModels(intercepts: number[]): Promise<TestModels> {
  const missing = intercepts.filter((intercept) => !made.linear.has(intercept))
  if (missing.length > 0 || !made.mixed) {
    const generated = await generateTestModels(missing)
    for (const [intercept, file] of generated.linear) made.linear.set(intercept, file)
    made.mixed = generated.mixed
  }
  // Copies: a test may change its bytes without changing another's.
  const copy = (file: ModelFile): ModelFile => ({ ...file, bytes: Buffer.from(file.bytes) })
  return {
    linear: new Map(intercepts.map((intercept) => [intercept, copy(made.linear.get(intercept)!)])),
    mixed: copy(made.mixed!),
  }
}

async function generateTestModels(intercepts: number[]): Promise<TestModels> {
  const dir = await mkdtemp(join(tmpdir(), 'argmax-test-models-'))
  try {
    await promisify(execFile)(SYSTEM_PYTHON, [generator, dir, ...intercepts.map(String)]).catch(
      (error: unknown) => {
        throw new Error(
          `generating test ONNX models needs Debian's python3-onnx (run 'bash scripts/bootstrap.sh'): ${(error as Error).message}`,
          { cause: error },
        )
      },
    )
    const file = async (name: string): Promise<ModelFile> => {
      const bytes = await readFile(join(dir, name))
      return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') }
    }
    const linear = new Map<number, ModelFile>()
    for (const intercept of intercepts) {
      linear.set(intercept, await file(`linear-${String(intercept)}.onnx`))
    }
    return { linear, mixed: await file('mixed.onnx') }
  } finally {
    // The models are returned as bytes: nothing reads the files again.
    await rm(dir, { recursive: true, force: true })
  }
}
