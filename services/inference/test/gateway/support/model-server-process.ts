import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { launchArgs, stackEndpoints } from '@argmax/testkit'

const main = fileURLToPath(new URL('../../../src/model-server-main.ts', import.meta.url))

export interface ModelServerProcess {
  address: string
  child: ChildProcess
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** `model-server-main.ts` as its own process on fixed ports (so a restart comes back there). */
export async function spawnModelServer(options: {
  secret: string
  grpcPort: number
  httpPort: number
  cacheDir?: string
}): Promise<ModelServerProcess> {
  const endpoints = stackEndpoints()
  // A cache of its own unless given one; gone with the process, so runs leave no directories.
  const cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), 'argmax-ms-'))
  const child = spawn(process.execPath, launchArgs(main), {
    env: {
      ...process.env,
      ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
      ARGMAX_S3_REGION: endpoints.s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_JWT_SECRET: options.secret,
      ARGMAX_HTTP_PORT: String(options.httpPort),
      ARGMAX_MODEL_SERVER_GRPC_PORT: String(options.grpcPort),
      ARGMAX_MODEL_SERVER_CACHE_DIR: cacheDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (!options.cacheDir) rmSync(cacheDir, { recursive: true, force: true })
      resolve(code)
    }),
  )
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line.includes('"model-server service ready"')) resolve()
    })
    void exited.then((code) => reject(new Error(`model server exited ${code}: ${stderr}`)))
  })
  return {
    address: `127.0.0.1:${options.grpcPort}`,
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal)
      await exited
    },
  }
}
