import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { endpointsToEnv } from '@argmax/stack'
import { launchArgs, stackEndpoints } from '@argmax/testkit'

const main = fileURLToPath(new URL('../../../src/main.ts', import.meta.url))

export interface GatewayProcess {
  /** The gateway's gRPC address (`host:port`). */
  grpc: string
  child: ChildProcess
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * The inference service's `main.ts` as its own process, as `argmax up` and Kubernetes run it,
 * on the test kit's servers; `env` adds or overrides its settings (stream names, secrets, the
 * model servers). Resolves once it says it is ready, with the gRPC address it bound.
 */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, launchArgs(main), {
    env: {
      ...process.env,
      ...endpointsToEnv(stackEndpoints()),
      ARGMAX_HTTP_PORT: '0',
      ARGMAX_INFERENCE_GRPC_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const grpc = await new Promise<string>((resolve, reject) => {
    let address: string | undefined
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; grpc?: string }
      if (entry.msg === 'inference gateway gRPC listening') address = entry.grpc
      if (entry.msg === 'inference service ready' && address) resolve(address)
    })
    void exited.then((code) => reject(new Error(`the gateway exited ${code}: ${stderr}`)))
  })
  return {
    grpc,
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal)
      await exited
    },
  }
}
