import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { describeProblems, verifyArtifact, type ArtifactFiles } from '../../src/artifacts/index.ts'
import { artifactFiles, trainLocally, vega, writeCsv, writeJsonl } from './support.ts'

// Real artifacts of the built-in trainer, then wrong files a custom trainer could hand in.
const work = mkdtempSync(join(tmpdir(), 'argmax-verify-'))
let movies: ArtifactFiles
let moviesOtherSeed: ArtifactFiles
let penguins: ArtifactFiles

beforeAll(async () => {
  const moviesCsv = join(work, 'movies.csv')
  const penguinsJsonl = join(work, 'penguins.jsonl')
  writeCsv(moviesCsv, vega('movies'))
  writeJsonl(penguinsJsonl, vega('penguins'))
  const runs = [
    ['movies', moviesCsv, { target: 'IMDB Rating', seed: 1 }],
    ['movies-other', moviesCsv, { target: 'IMDB Rating', seed: 2, params: { max_depth: 3 } }],
    ['penguins', penguinsJsonl, { target: 'Species', seed: 1 }],
  ] as const
  for (const [name, file, params] of runs) {
    const exit = await trainLocally('xgboost', file, join(work, name), params)
    if (exit.code !== 0) throw new Error(exit.stderr)
  }
  movies = artifactFiles(join(work, 'movies'))
  moviesOtherSeed = artifactFiles(join(work, 'movies-other'))
  penguins = artifactFiles(join(work, 'penguins'))
}, 300_000)
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface EditableRow {
  row: number
  outputs: { predictions: number; label: string }
}

function editSample(files: ArtifactFiles, edit: (rows: EditableRow[]) => void): ArtifactFiles {
  const rows = files.sample
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as EditableRow)
  edit(rows)
  return { ...files, sample: rows.map((r) => JSON.stringify(r)).join('\n') + '\n' }
}

describe('verifyArtifact', () => {
  test('the built-in trainer’s artifacts pass', async () => {
    const verdict = await verifyArtifact(movies)
    expect(verdict).toMatchObject({ ok: true, rows: 100, outputs: ['predictions'] })
    if (verdict.ok) expect(verdict.maxError).toBeLessThan(1e-5)
    expect(await verifyArtifact(penguins)).toMatchObject({ ok: true })
  })

  test('another model’s ONNX: its inputs are not the schema’s', async () => {
    const verdict = await verifyArtifact({ ...movies, model: penguins.model })
    expect(verdict.ok).toBe(false)
    if (verdict.ok) return
    expect(verdict.problems[0]).toMatchObject({ code: 'input_mismatch', input: 'Title' })
    expect(verdict.problems[0]!.message).toMatch(
      /^schema.json names input 'Title', the model has no such input \(its inputs: 'Island', /,
    )
    // 15 schema inputs missing, 6 model inputs undeclared, the output missing: 22, 20 listed.
    expect(verdict.problemCount).toBe(22)
    expect(verdict.problems).toHaveLength(20)
  })

  test('a model with the same signature that predicts differently: row, output, expected and got', async () => {
    const verdict = await verifyArtifact({ ...movies, model: moviesOtherSeed.model })
    expect(verdict.ok).toBe(false)
    if (verdict.ok) return
    const first = verdict.problems[0]!
    expect(first).toMatchObject({ code: 'prediction_mismatch', output: 'predictions', line: 1 })
    expect(typeof first.row).toBe('number')
    expect(first.message).toMatch(
      /^row \d+ \(line 1\), output 'predictions': expected [\d.]+, got [\d.]+ \(difference/,
    )
    expect(verdict.problemCount).toBeGreaterThan(50)
    expect(verdict.problems).toHaveLength(20)
    expect(describeProblems(verdict)).toMatch(/; and \d+ more$/)
  })

  test('a truncated file', async () => {
    const verdict = await verifyArtifact({
      ...movies,
      model: movies.model.subarray(0, movies.model.length / 2),
    })
    expect(verdict).toMatchObject({ ok: false, problems: [{ code: 'invalid_model' }] })
    if (!verdict.ok)
      expect(verdict.problems[0]!.message).toMatch(/^model.onnx cannot be loaded by onnxruntime: /)
  })

  test('a schema naming an input the model lacks', async () => {
    const schema = JSON.parse(movies.schema)
    schema.inputs.push({ name: 'Budget Ratio', datatype: 'FP32', shape: [-1], nullable: true })
    const verdict = await verifyArtifact({ ...movies, schema: JSON.stringify(schema) })
    expect(verdict).toMatchObject({
      ok: false,
      problemCount: 1,
      problems: [{ code: 'input_mismatch', input: 'Budget Ratio' }],
    })
  })

  test('a schema with the wrong datatype for an input', async () => {
    const schema = JSON.parse(movies.schema)
    schema.inputs.find((i: { name: string }) => i.name === 'Title').datatype = 'FP32'
    const verdict = await verifyArtifact({ ...movies, schema: JSON.stringify(schema) })
    expect(verdict).toMatchObject({
      ok: false,
      problems: [{ code: 'input_mismatch', input: 'Title', expected: 'FP32', got: 'string' }],
    })
  })

  test('one tampered prediction and one tampered label are named precisely', async () => {
    const regression = editSample(movies, (rows) => {
      rows[3]!.outputs.predictions += 0.01
    })
    const verdict = await verifyArtifact(regression)
    expect(verdict).toMatchObject({
      ok: false,
      problemCount: 1,
      problems: [{ code: 'prediction_mismatch', line: 4 }],
    })
    if (!verdict.ok) {
      const p = verdict.problems[0]!
      expect(p.row).toBe(JSON.parse(movies.sample.split('\n')[3]!).row)
      expect(Math.abs((p.got as number) - (p.expected as number))).toBeCloseTo(0.01, 4)
    }
    const classification = editSample(penguins, (rows) => {
      const r = rows[0]!
      r.outputs.label = r.outputs.label === 'Gentoo' ? 'Adelie' : 'Gentoo'
    })
    expect(await verifyArtifact(classification)).toMatchObject({
      ok: false,
      problems: [{ code: 'prediction_mismatch', output: 'label', line: 1 }],
    })
  })

  test('small float differences within the tolerance pass; a bad sample line is named', async () => {
    const close = editSample(movies, (rows) => {
      for (const r of rows) r.outputs.predictions += 5e-5
    })
    expect(await verifyArtifact(close)).toMatchObject({ ok: true })
    const broken = { ...movies, sample: movies.sample.replace(/\n/, '\n{not json\n') }
    expect(await verifyArtifact(broken)).toMatchObject({
      ok: false,
      problems: [{ code: 'invalid_sample', line: 2 }],
    })
    expect(await verifyArtifact({ ...movies, schema: '{}' })).toMatchObject({
      ok: false,
      problems: [{ code: 'invalid_schema' }],
    })
  })
})
