import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchArgs } from './launch.ts'
import { spawnServer, waitUntilHealthy, type RunningPart } from './process.ts'

export interface S3Options {
  dataDir: string
  port: number
}

/** s3rver accepts any SigV4 signature; these are what clients sign with. */
export const s3Credentials = {
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
  region: 'us-east-1',
}

/**
 * An S3-compatible endpoint (s3rver from npm) in its own process, so heavy object traffic
 * never shares an event loop with the code under test.
 */
export async function startS3({ dataDir, port }: S3Options): Promise<RunningPart> {
  const directory = join(dataDir, 's3')
  mkdirSync(directory, { recursive: true })
  const logFile = join(dataDir, 'logs', 's3.log')
  const entry = fileURLToPath(new URL('./s3-server.main.ts', import.meta.url))
  const server = spawnServer(process.execPath, launchArgs(entry), {
    logFile,
    env: { ...process.env, S3_PORT: String(port), S3_DIRECTORY: directory },
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntilHealthy('s3', server, async () => (await fetch(url)).status < 500, {
    logFile,
    hint: `check that port ${port} is free and 'pnpm install' has installed s3rver`,
  })
  return {
    name: 's3',
    pid: server.child.pid!,
    exited: server.exited,
    url,
    logFile,
    stop: () => server.stop(),
  }
}
