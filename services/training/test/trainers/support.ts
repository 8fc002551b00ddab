import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ArtifactFiles } from '../../src/artifacts/index.ts'

/** Debian's interpreter: another python3 may come first on PATH without Debian's ML packages. */
export const PYTHON = '/usr/bin/python3'
export const TRAINERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'trainers')
export const TRAIN_PY = join(TRAINERS_DIR, 'train.py')

export type Row = Record<string, string | number | boolean | null>

/** A dataset of the vega-datasets package, read from disk (its own loader downloads). */
export function vega(name: 'movies' | 'penguins'): Row[] {
  const entry = createRequire(import.meta.url).resolve('vega-datasets')
  return JSON.parse(
    readFileSync(join(dirname(entry), '..', 'data', `${name}.json`), 'utf8'),
  ) as Row[]
}

function columnsOf(rows: Row[]): string[] {
  const columns = new Set<string>()
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key)
  return [...columns]
}

function csvField(value: Row[string] | undefined): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** As a user's export would be: a header, quoted fields where needed, empty = missing. */
export function writeCsv(path: string, rows: Row[]): void {
  const columns = columnsOf(rows)
  const lines = [columns.map((c) => csvField(c)).join(',')]
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','))
  writeFileSync(path, lines.join('\n') + '\n')
}

export function writeJsonl(path: string, rows: Row[]): void {
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n')
}

export interface TrainerExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** stdout's JSON lines. */
  events: Array<Record<string, unknown>>
  stderr: string
}

export function startTrainer(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(PYTHON, [TRAIN_PY, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export async function finish(child: ChildProcess): Promise<TrainerExit> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  const events = stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { code, signal, events, stderr }
}

/** Local mode: `train.py --trainer T --dataset FILE --output DIR --params JSON`. */
export function trainLocally(
  trainer: string,
  dataset: string,
  output: string,
  params: object,
): Promise<TrainerExit> {
  return finish(
    startTrainer([
      '--trainer',
      trainer,
      '--dataset',
      dataset,
      '--output',
      output,
      '--params',
      JSON.stringify(params),
    ]),
  )
}

export function artifactFiles(dir: string): ArtifactFiles {
  return {
    model: readFileSync(join(dir, 'model.onnx')),
    schema: readFileSync(join(dir, 'schema.json'), 'utf8'),
    sample: readFileSync(join(dir, 'predictions-sample.jsonl'), 'utf8'),
  }
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

export interface SampleLine {
  row: number
  inputs: Record<string, number | string | null>
  outputs: { predictions?: number; label?: string; probabilities?: number[] }
  target: number | string
}

export function readSample(dir: string): SampleLine[] {
  return readFileSync(join(dir, 'predictions-sample.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SampleLine)
}
