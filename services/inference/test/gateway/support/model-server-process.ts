import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stackEnv } from '@argmax/testkit'
import { spawnServiceProcess, type ServiceProcess } from './service-process.ts'

const main = fileURLToPath(new URL('../../../src/model-server-main.ts', import.meta.url))

export interface ModelServerProcess extends ServiceProcess {
  address: string
}

/** `model-server-main.ts` as its own process on fixed ports (so a restart comes back there). */
export async function spawnModelServer(options: {
  secret: string
  grpcPort: number
  httpPort: number
  cacheDir?: string
}): Promise<ModelServerProcess> {
  // A cache of its own unless given one; gone with the process, so runs leave no directories.
  const cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), 'argmax-ms-'))
  const removeCache = () => {
    if (!options.cacheDir) rmSync(cacheDir, { recursive: true, force: true })
  }
  try {
    const server = await spawnServiceProcess(
      main,
      {
        ...process.env,
        ...stackEnv(),
        ARGMAX_JWT_SECRET: options.secret,
        ARGMAX_HTTP_PORT: String(options.httpPort),
        ARGMAX_MODEL_SERVER_GRPC_PORT: String(options.grpcPort),
        ARGMAX_MODEL_SERVER_CACHE_DIR: cacheDir,
      },
      (line) => line.msg === 'model-server service ready',
    )
    void server.exited.then(removeCache)
    return { ...server, address: `127.0.0.1:${options.grpcPort}` }
  } catch (error) {
    removeCache()
    throw error
  }
}
