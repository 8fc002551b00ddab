import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { launchArgs, stackEndpoints } from '@argmax/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createV2Client } from '../../src/model-server/index.ts'

const mainFile = fileURLToPath(new URL('../../src/model-server-main.ts', import.meta.url))
const cacheDir = mkdtempSync(join(tmpdir(), 'argmax-model-cache-'))
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }))

function environment(extra: Record<string, string> = {}): Record<string, string> {
  const { s3 } = stackEndpoints()
  return {
    PATH: process.env['PATH'] ?? '',
    ARGMAX_S3_ENDPOINT: s3.endpoint,
    ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
    ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ARGMAX_S3_FORCE_PATH_STYLE: 'true',
    ARGMAX_HTTP_PORT: '0',
    ARGMAX_MODEL_SERVER_GRPC_PORT: '0',
    ARGMAX_MODEL_SERVER_CACHE_DIR: cacheDir,
    ...extra,
  }
}

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, launchArgs(mainFile), { env })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const lines: Record<string, unknown>[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      lines.push({ text: line })
    }
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, exited, lines, stderr: () => stderr }
}

describe('the model server process', () => {
  it('names every missing or malformed setting and exits 1', async () => {
    const proc = run({
      PATH: environment().PATH!,
      ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER: 'tpu',
      ARGMAX_MODEL_SERVER_MAX_BATCH_SIZE: 'lots',
    })
    expect(await proc.exited).toBe(1)
    for (const expected of [
      'ARGMAX_S3_ACCESS_KEY_ID: is required but not set',
      'ARGMAX_JWT_SECRET: is required but not set',
      'ARGMAX_HTTP_PORT: is required but not set',
      'ARGMAX_MODEL_SERVER_GRPC_PORT: is required but not set',
      'ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER: must be cpu or cuda (got "tpu")',
      'ARGMAX_MODEL_SERVER_MAX_BATCH_SIZE: must be a whole number (got "lots")',
    ]) {
      expect(proc.stderr()).toContain(expected)
    }
  })

  it('refuses to start with the CUDA provider where ONNX Runtime cannot start it', async () => {
    const proc = run(
      environment({
        ARGMAX_JWT_SECRET: generateDevSecret(),
        ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER: 'cuda',
      }),
    )
    expect(await proc.exited).toBe(1)
    const fatal = proc.lines.find((line) => line['level'] === 'fatal')
    expect(fatal?.['msg']).toBe('model-server service failed to start')
    expect(JSON.stringify(fatal?.['err'])).toContain(
      'ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER=cuda: ONNX Runtime cannot start the CUDA execution provider',
    )
  })

  it('serves v2 over gRPC and REST, and shuts down cleanly on SIGTERM', async () => {
    const secret = generateDevSecret()
    const proc = run(environment({ ARGMAX_JWT_SECRET: secret }))
    try {
      const listening = await new Promise<{ url: string; grpc: string }>((resolve, reject) => {
        const timer = setInterval(() => {
          const line = proc.lines.find((entry) => entry['msg'] === 'model server listening')
          if (line) {
            clearInterval(timer)
            resolve(line as unknown as { url: string; grpc: string })
          }
        }, 50)
        void proc.exited.then((code) => {
          clearInterval(timer)
          reject(new Error(`exited with ${code} before it listened: ${proc.stderr()}`))
        })
      })
      expect(proc.lines).toContainEqual(
        expect.objectContaining({ msg: 'model-server service ready', executionProvider: 'cpu' }),
      )
      const token = await mintDevToken({ secret, subject: 'gateway', roles: ['admin'], ttl: 60 })
      const client = createV2Client(listening.grpc, { token })
      try {
        await expect(client.call('ServerReady', {})).resolves.toEqual({ ready: true })
        await expect(client.call('RepositoryIndex', {})).resolves.toEqual({ models: [] })
      } finally {
        client.close()
      }
      expect((await fetch(`${listening.url}/readyz`)).status).toBe(200)
      expect(await (await fetch(`${listening.url}/metrics`)).text()).toContain(
        'model_server_versions{state="READY"',
      )
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })
})
