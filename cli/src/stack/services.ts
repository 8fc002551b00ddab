import { join } from 'node:path'
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
  service: ServiceName
  endpoints: StackEndpoints
  port: number
  jwtSecret: string
  /** Marks every process of this stack so `argmax down` can find stragglers by their env. */
  stackDir: string
  /** Signs the tokens training jobs call the training API with (not the platform's secret). */
  trainingRunTokenSecret: string
}

/**
 * The complete configuration of one service process. Only ARGMAX_* settings differ between
 * the local stack and a cluster (see deploy/kustomize/base/config.env): same code, same SDKs.
 */
export function serviceEnv({
  service,
  endpoints,
  port,
  jwtSecret,
  stackDir,
  trainingRunTokenSecret,
}: ServiceEnvInput): Record<string, string> {
  return {
    ...(service === 'training'
      ? {
          // Training jobs are child processes of this machine; their work directories live in
          // the stack's data dir so a restarted service finds its running jobs again.
          ARGMAX_TRAINING_RUNNER: 'local',
          ARGMAX_TRAINING_WORK_DIR: join(stackDir, 'training'),
          ARGMAX_TRAINING_RUN_TOKEN_SECRET: trainingRunTokenSecret,
        }
      : {}),
    ...endpointsToEnv(endpoints),
    ARGMAX_STREAM_REPLICAS: '1',
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: jwtSecret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: String(port),
    ARGMAX_STACK_DIR: stackDir,
  }
}
