import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { verifyPredictionId } from '@argmax/contracts'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
// The inference gateway in this process, with two model servers, against the test kit's servers.
import {
  startGatewayHarness,
  type GatewayHarness,
} from '../../../services/inference/test/gateway/support/gateway-harness.ts'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { registerPredictCommands } from '../../src/predict/index.ts'

let h: GatewayHarness
const dir = mkdtempSync(join(tmpdir(), 'argmax-predict-'))

beforeAll(async () => {
  const models = await writeTestModels([1, 2])
  h = await startGatewayHarness({ listen: true })
  await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
  await h.registry.registerVersion('movies', 2, models.linear.get(2)!.bytes, LINEAR_SIGNATURE)
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
  await h.waitServing('movies', 2)
})
afterAll(async () => {
  await h?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function run(...args: string[]): Promise<string> {
  const lines: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line))
  try {
    const program = new Command('argmax').exitOverride()
    registerPredictCommands(program, {
      apiUrl: h.gateway.url!,
      grpcAddress: h.gateway.workers.grpc.address,
      token: h.tokens.alice,
      json: false,
    })
    await program.parseAsync(['node', 'argmax', ...args])
  } finally {
    log.mockRestore()
  }
  return lines.join('\n')
}

describe('argmax predict', () => {
  it('predicts JSON Lines over gRPC and prints each row with its prediction id', async () => {
    const input = join(dir, 'rows.jsonl')
    writeFileSync(
      input,
      ['{"x1": 1, "x2": 2}', '{"x2": 3}', '', '{"x1": 5, "x2": 0}'].join('\n') + '\n',
    )
    const out = JSON.parse(
      await run('predict', 'movies', '--input', input, '--json', '--batch-size', '2'),
    ) as {
      version: string
      predictions: Array<{ row: number; prediction: number; predictionId: string }>
    }
    expect(out.version).toBe('1')
    expect(out.predictions.map((p) => [p.row, p.prediction])).toEqual([
      [0, linearExpected(1, 2, 1)],
      [1, linearExpected(Number.NaN, 3, 1)],
      [2, linearExpected(5, 0, 1)],
    ])
    for (const p of out.predictions) {
      expect(verifyPredictionId(h.predictionIdSecret, p.predictionId)).toMatchObject({ ok: true })
    }
    const human = await run('predict', 'movies', '--input', input, '--version', '2')
    expect(human).toMatch(/^model movies version 2: 3 predictions$/m)
    expect(human).toMatch(/^0\t10\tp1_/m)
    expect(human).toMatch(/^1\t11\tp1_/m)
  })

  it('predicts a CSV file as batch predictions read one: its inputs typed, other columns left out', async () => {
    const input = join(dir, 'films.csv')
    // A dataset's file: the target column is not an input; an empty cell is missing.
    writeFileSync(input, ['title,x2,x1,target', 'a,2,1,7.5', 'b,3,,6', '', 'c,0,5,8'].join('\n'))
    const csv = JSON.parse(await run('predict', 'movies', '--input', input, '--json')) as {
      predictions: Array<{ row: number; prediction: number }>
    }
    expect(csv.predictions.map((p) => [p.row, p.prediction])).toEqual([
      [0, linearExpected(1, 2, 1)],
      [1, linearExpected(Number.NaN, 3, 1)],
      [2, linearExpected(5, 0, 1)],
    ])
    // Named by --format when the file's name does not say it (stdin, say).
    const named = join(dir, 'films.txt')
    writeFileSync(named, 'x1,x2\n1,2\n')
    const text = JSON.parse(
      await run('predict', 'movies', '--input', named, '--format', 'csv', '--json'),
    ) as { predictions: Array<{ prediction: number }> }
    expect(text.predictions.map((p) => p.prediction)).toEqual([linearExpected(1, 2, 1)])

    const ragged = join(dir, 'ragged.csv')
    writeFileSync(ragged, 'x1,x2\n1,2\n3\n')
    await expect(run('predict', 'movies', '--input', ragged)).rejects.toThrow(
      new RegExp(`^${ragged}: Invalid Record Length: .* on line 3`),
    )
    const wordy = join(dir, 'wordy.csv')
    writeFileSync(wordy, 'x1,x2\nhigh,2\n')
    await expect(run('predict', 'movies', '--input', wordy)).rejects.toThrow(
      /instances\/0\/x1: is "high"; the input takes a number/,
    )
    const headerOnly = join(dir, 'header-only.csv')
    writeFileSync(headerOnly, 'x1,x2\n')
    await expect(run('predict', 'movies', '--input', headerOnly)).rejects.toThrow(
      `${headerOnly}: no rows to predict`,
    )
    await expect(run('predict', 'movies', '--input', wordy, '--format', 'xml')).rejects.toThrow(
      '--format must be csv or jsonl, not "xml"',
    )
  })

  it('says which line of the file is not a record, and what the gateway refused', async () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, '{"x1": 1, "x2": 2}\n[1, 2]\n')
    await expect(run('predict', 'movies', '--input', bad)).rejects.toThrow(
      `${bad}:2: not a JSON object`,
    )
    const refused = join(dir, 'refused.jsonl')
    writeFileSync(refused, '{"x1": 1}\n')
    await expect(run('predict', 'movies', '--input', refused)).rejects.toThrow(
      /inputs\/x2: row 0 is missing/,
    )
  })
})

describe('argmax predict batch', () => {
  it('requests, waits, and downloads the predictions of a dataset version', async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3')
    const { createEventStore, ensureStreams } = await import('@argmax/events')
    await ensureStreams(await h.nc.jetstreamManager(), [
      {
        name: h.names.dataset.stream,
        subjects: [`${h.names.dataset.root}.>`],
        retention: 'limits',
      },
    ])
    const bytes = Buffer.from('{"x1":1,"x2":1}\n{"x1":2,"x2":2}\n')
    await h.s3.send(
      new PutObjectCommand({ Bucket: h.bucket, Key: 'ds/v1/data.jsonl', Body: bytes }),
    )
    const common = {
      versionId: 'v1',
      datasetId: 'd1',
      bucket: h.bucket,
      objectKey: 'ds/v1/data.jsonl',
      format: 'jsonl',
      size: bytes.length,
      sha256: '0'.repeat(64),
    }
    await createEventStore({ nc: h.nc }).append(
      `${h.names.dataset.root}.version.v1`,
      [
        { type: 'UploadStarted', data: { ...common, ownerId: 'alice' } },
        { type: 'UploadCompleted', data: common },
        { type: 'VersionValidated', data: { versionId: 'v1', datasetId: 'd1' } },
      ],
      { expectedLastSubjectSequence: 'any', meta: { actor: 'system:dataset' } },
    )
    const output = join(dir, 'batch.jsonl')
    const printed = await run(
      'predict',
      'batch',
      'movies',
      '--dataset',
      'd1',
      '--dataset-version',
      'v1',
      '-o',
      output,
    )
    expect(printed).toBe(`saved 2 predictions (0 rows refused) to ${output}`)
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { prediction: number })
    expect(lines.map((l) => l.prediction)).toEqual([
      linearExpected(1, 1, 1),
      linearExpected(2, 2, 1),
    ])
  })
})
