import { createHmac } from 'node:crypto'
import { endpointsToEnv, type StackEndpoints } from '@argmax/stack'

export const serviceNames = ['dataset', 'training', 'registry', 'inference', 'feedback'] as const
export type ServiceName = (typeof serviceNames)[number]

/** A process of the platform that `argmax up` runs: its entry point, relative to the repository. */
export interface ServiceProcess {
  name: ServiceName
  entry: string
}

export const serviceProcesses: ServiceProcess[] = serviceNames.map((name) => ({
  name,
  entry: `services/${name}/src/main.ts`,
}))

export interface ServiceEnvInput {
  endpoints: StackEndpoints
  port: number
  jwtSecret: string
  /** Marks every process of this stack so `argmax down` can find stragglers by their env. */
  stackDir: string
}

/**
 * The complete configuration of one service process. Only ARGMAX_* settings differ between
 * the local stack and a cluster (see deploy/kustomize/base/config.env): same code, same SDKs.
 */
export function serviceEnv({
  endpoints,
  port,
  jwtSecret,
  stackDir,
}: ServiceEnvInput): Record<string, string> {
  return {
    ...endpointsToEnv(endpoints),
    ARGMAX_STREAM_REPLICAS: '1',
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: jwtSecret,
    // Prediction ids are signed by inference and checked by feedback with one key; locally it
    // derives from the stack's secret, so it survives restarts like the tokens do.
    ARGMAX_PREDICTION_ID_SECRET: createHmac('sha256', jwtSecret)
      .update('argmax.prediction-ids')
      .digest('base64url'),
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: String(port),
    ARGMAX_STACK_DIR: stackDir,
  }
}
