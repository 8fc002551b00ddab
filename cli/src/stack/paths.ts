import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository this CLI runs from: service entry points are resolved against it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Where everything of one local stack lives. Every path is absolute. */
export interface StackPaths {
  dataDir: string
  runDir: string
  stateFile: string
  /** The background supervisor's pid, written when it is spawned (before state.json exists). */
  supervisorPidFile: string
  logsDir: string
  secretsDir: string
  jwtSecretFile: string
  /** The HMAC key of prediction ids (inference issues them, feedback verifies them). */
  predictionIdSecretFile: string
  /** Local model servers' artifact caches. */
  modelCacheDir: string
  trainingRunTokenSecretFile: string
  tokenFile: string
}

/**
 * `--data-dir` wins, then ARGMAX_DATA_DIR, then `<repo>/.argmax`: the default does not depend
 * on the current directory, so `argmax status` finds the stack `argmax up` started from
 * anywhere.
 */
export function resolveDataDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return resolve(flag ?? env['ARGMAX_DATA_DIR'] ?? join(repoRoot, '.argmax'))
}

export function stackPaths(dataDir: string): StackPaths {
  const root = resolve(dataDir)
  return {
    dataDir: root,
    runDir: join(root, 'run'),
    stateFile: join(root, 'run', 'state.json'),
    supervisorPidFile: join(root, 'run', 'supervisor.pid'),
    logsDir: join(root, 'logs'),
    secretsDir: join(root, 'secrets'),
    jwtSecretFile: join(root, 'secrets', 'jwt-secret'),
    predictionIdSecretFile: join(root, 'secrets', 'prediction-id-secret'),
    modelCacheDir: join(root, 'model-cache'),
    trainingRunTokenSecretFile: join(root, 'secrets', 'training-run-token-secret'),
    tokenFile: join(root, 'token'),
  }
}
