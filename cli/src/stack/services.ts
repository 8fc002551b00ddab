import { join } from 'node:path'
import { endpointsToEnv, type StackEndpoints } from '@argmax/stack'
import type { LocalPorts } from './ports.ts'

export const serviceNames = ['dataset', 'training', 'registry', 'inference', 'feedback'] as const
export type ServiceName = (typeof serviceNames)[number]

/** A process of the platform that `argmax up` runs: its entry point, relative to the repository. */
export interface ServiceProcess {
  name: string
  entry: string
}

export const serviceProcesses: ServiceProcess[] = serviceNames.map((name) => ({
  name,
  entry: `services/${name}/src/main.ts`,
}))

/** The local model servers: the inference gateway drives them (ARGMAX_MODEL_SERVERS). */
export function modelServerProcesses(ports: LocalPorts): ServiceProcess[] {
  return ports.modelServers.map((_, i) => ({
    name: `model-server-${i + 1}`,
    entry: 'services/inference/src/model-server-main.ts',
  }))
}

export interface ServiceEnvInput {
  service: ServiceName
  endpoints: StackEndpoints
  port: number
  jwtSecret: string
  /** Signs prediction ids: inference issues them, feedback verifies them. */
  predictionIdSecret: string
  ports: LocalPorts
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
  predictionIdSecret,
  ports,
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
          // Retrain pipelines register their candidate and start its rollout there.
          ARGMAX_TRAINING_REGISTRY_URL: `http://127.0.0.1:${ports.services.registry}`,
          // Pipelines with data.source fresh_feedback ask it for a feedback dataset.
          ARGMAX_TRAINING_FEEDBACK_URL: `http://127.0.0.1:${ports.services.feedback}`,
          // The warm step waits there until the gateway has loaded the pipeline's candidate.
          ARGMAX_TRAINING_INFERENCE_URL: `http://127.0.0.1:${ports.services.inference}`,
        }
      : {}),
    ...endpointsToEnv(endpoints),
    ARGMAX_STREAM_REPLICAS: '1',
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: jwtSecret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: String(port),
    ARGMAX_PREDICTION_ID_SECRET: predictionIdSecret,
    // The inference gateway's: its gRPC port and the model servers it drives.
    ARGMAX_INFERENCE_GRPC_HOST: '127.0.0.1',
    ARGMAX_INFERENCE_GRPC_PORT: String(ports.inferenceGrpc),
    ARGMAX_MODEL_SERVERS: ports.modelServers.map((server) => `127.0.0.1:${server.grpc}`).join(','),
    ARGMAX_STACK_DIR: stackDir,
  }
}

/** The configuration of local model server `index` (0-based). */
export function modelServerEnv({
  endpoints,
  jwtSecret,
  ports,
  index,
  cacheDir,
  stackDir,
}: {
  endpoints: StackEndpoints
  jwtSecret: string
  ports: LocalPorts
  index: number
  cacheDir: string
  stackDir: string
}): Record<string, string> {
  const own = ports.modelServers[index]!
  return {
    ...endpointsToEnv(endpoints),
    ARGMAX_AUTH_MODE: 'hs256',
    ARGMAX_JWT_SECRET: jwtSecret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: String(own.http),
    ARGMAX_MODEL_SERVER_GRPC_HOST: '127.0.0.1',
    ARGMAX_MODEL_SERVER_GRPC_PORT: String(own.grpc),
    ARGMAX_MODEL_SERVER_NAME: `argmax-model-server-${index + 1}`,
    ARGMAX_MODEL_SERVER_CACHE_DIR: join(cacheDir, String(index + 1)),
    ARGMAX_STACK_DIR: stackDir,
  }
}
