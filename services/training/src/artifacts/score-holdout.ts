import type { ModelSignature } from '@argmax/contracts'
import type { InferenceSession } from 'onnxruntime-node'
import {
  classificationScore,
  regressionScore,
  type HoldoutChunk,
  type HoldoutScore,
} from '../domain/holdout-metrics.ts'
import { inputFeeds } from './verify-artifact.ts'

/** Rows per inference call: a few MiB of tensors whatever the holdout's size. */
export const HOLDOUT_CHUNK_ROWS = 2048

export interface ScoredModel {
  session: InferenceSession
  signature: ModelSignature
}

export interface HoldoutScores {
  rows: number
  /** Per model, in the order given: metric name → value. */
  metrics: Array<Record<string, number>>
}

/** The holdout is not what the models can be scored on (a row, an input, a task): final. */
export class HoldoutError extends Error {
  override name = 'HoldoutError'
}

interface HoldoutRow {
  inputs: Record<string, unknown>
  target: unknown
}

/**
 * Scores every model on the same holdout rows (`holdout.jsonl` lines: `{"row", "inputs",
 * "target"}`), `chunkRows` at a time: each chunk's input tensors are built from each model's
 * own signature, run in onnxruntime, and folded into that model's metrics. Memory holds one
 * chunk, never the holdout.
 */
export async function scoreHoldout(
  lines: AsyncIterable<string>,
  models: readonly ScoredModel[],
  options: { chunkRows?: number; file?: string } = {},
): Promise<HoldoutScores> {
  const chunkRows = options.chunkRows ?? HOLDOUT_CHUNK_ROWS
  const file = options.file ?? 'holdout.jsonl'
  const task = models[0]?.signature.task
  if (models.some((m) => m.signature.task !== task)) {
    throw new HoldoutError(
      `the models do not have the same task (${models.map((m) => m.signature.task).join(' vs ')}): they cannot be compared`,
    )
  }
  const scores: HoldoutScore[] = models.map((m) =>
    m.signature.task === 'regression'
      ? regressionScore()
      : classificationScore(m.signature.classes ?? []),
  )
  let chunk: HoldoutRow[] = []
  let line = 0
  let firstLine = 1
  const flush = async () => {
    if (chunk.length === 0) return
    for (const [i, model] of models.entries()) {
      scores[i]!.add(await runChunk(model, chunk, { file, firstLine }))
    }
    chunk = []
  }
  for await (const text of lines) {
    line += 1
    if (text.trim() === '') continue
    if (chunk.length === 0) firstLine = line
    chunk.push(parseRow(text, line, file, task ?? 'regression'))
    if (chunk.length >= chunkRows) await flush()
  }
  await flush()
  return { rows: scores[0]?.rows ?? 0, metrics: scores.map((s) => s.metrics()) }
}

function parseRow(text: string, line: number, file: string, task: string): HoldoutRow {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new HoldoutError(`${file} line ${line} is not JSON: ${(error as Error).message}`)
  }
  const row = raw as Partial<HoldoutRow>
  if (typeof row !== 'object' || row === null || typeof row.inputs !== 'object' || !row.inputs) {
    throw new HoldoutError(`${file} line ${line} needs an object "inputs"`)
  }
  const ok = task === 'regression' ? typeof row.target === 'number' : typeof row.target === 'string'
  if (!ok) {
    throw new HoldoutError(
      `${file} line ${line}: the target must be ${task === 'regression' ? 'a number' : 'a class name'}, not ${JSON.stringify(row.target)}`,
    )
  }
  return { inputs: row.inputs, target: row.target }
}

async function runChunk(
  model: ScoredModel,
  rows: HoldoutRow[],
  where: { file: string; firstLine: number },
): Promise<HoldoutChunk> {
  const { signature, session } = model
  let feeds
  try {
    feeds = inputFeeds(
      signature,
      rows.map((r) => r.inputs),
      where,
    )
  } catch (error) {
    throw new HoldoutError((error as Error).message)
  }
  if (signature.task === 'regression') {
    const output = signature.outputs[0]!.name
    const results = await session.run(feeds, [output])
    return {
      task: 'regression',
      targets: rows.map((r) => r.target as number),
      predictions: results[output]!.data as Float32Array,
    }
  }
  const label = signature.outputs.find((o) => o.datatype === 'BYTES')?.name ?? 'label'
  const probabilities =
    signature.outputs.find((o) => o.datatype !== 'BYTES' && o.shape.length === 2)?.name ??
    'probabilities'
  const results = await session.run(feeds, [label, probabilities])
  return {
    task: 'classification',
    targets: rows.map((r) => r.target as string),
    labels: results[label]!.data as string[],
    probabilities: results[probabilities]!.data as Float32Array,
  }
}
