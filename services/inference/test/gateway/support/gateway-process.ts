import { fileURLToPath } from 'node:url'
import { stackEnv } from '@argmax/testkit'
import { spawnServiceProcess, type ServiceProcess } from './service-process.ts'

const main = fileURLToPath(new URL('../../../src/main.ts', import.meta.url))

export interface GatewayProcess extends ServiceProcess {
  /** The gRPC address it bound (`host:port`). */
  grpc: string
}

/**
 * The inference service's `main.ts` as its own process on the test kit's servers; `env` adds or
 * overrides its settings (stream names, secrets, the model servers). Resolves once it says it is
 * ready.
 */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  let grpc: string | undefined
  const gateway = await spawnServiceProcess(
    main,
    {
      ...process.env,
      ...stackEnv(),
      ARGMAX_HTTP_PORT: '0',
      ARGMAX_INFERENCE_GRPC_PORT: '0',
      ...env,
    },
    (line) => {
      if (line.msg === 'inference gateway gRPC listening') grpc = line['grpc'] as string
      return line.msg === 'inference service ready' && grpc !== undefined
    },
  )
  return { ...gateway, grpc: grpc! }
}
