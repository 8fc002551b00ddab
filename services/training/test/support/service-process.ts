import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { generateDevSecret } from '@argmax/auth'
import { launchArgs, stackEnv, uniqueName } from '@argmax/testkit'
import { BUILTIN_TRAIN_PY, DEBIAN_PYTHON } from '../../src/config.ts'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

interface Names {
  stream: string
  root: string
}

/**
 * The settings a training process under test reads (its main.ts's environment): the test
 * stack, a schema of its own, the streams it follows, the built-in trainer, and the short lease
 * and scheduler tick the restart tests run with. `extra` adds what one test needs.
 */
export function trainingProcessEnv(options: {
  port: number
  /** The dev JWT secret its API checks tokens with. */
  secret: string
  bucket: string
  workDir: string
  streams: { training: Names; dataset: Names; registry: Names; feedback: Names }
  extra?: Record<string, string>
}): Record<string, string> {
  const { streams } = options
  return {
    ...stackEnv(),
    ARGMAX_JWT_SECRET: options.secret,
    ARGMAX_HTTP_HOST: '127.0.0.1',
    ARGMAX_HTTP_PORT: String(options.port),
    ARGMAX_LOG_LEVEL: 'warn',
    ARGMAX_TRAINING_BUCKET: options.bucket,
    ARGMAX_TRAINING_STREAM: streams.training.stream,
    ARGMAX_TRAINING_SUBJECT_ROOT: streams.training.root,
    ARGMAX_TRAINING_DATASET_STREAM: streams.dataset.stream,
    ARGMAX_TRAINING_DATASET_SUBJECT_ROOT: streams.dataset.root,
    ARGMAX_TRAINING_REGISTRY_STREAM: streams.registry.stream,
    ARGMAX_TRAINING_REGISTRY_SUBJECT_ROOT: streams.registry.root,
    ARGMAX_TRAINING_FEEDBACK_STREAM: streams.feedback.stream,
    ARGMAX_TRAINING_FEEDBACK_SUBJECT_ROOT: streams.feedback.root,
    ARGMAX_TRAINING_SCHEMA: uniqueName('training').toLowerCase(),
    ARGMAX_TRAINING_RUN_TOKEN_SECRET: generateDevSecret(),
    ARGMAX_TRAINING_API_URL: `http://127.0.0.1:${options.port}`,
    ARGMAX_TRAINING_WORK_DIR: options.workDir,
    ARGMAX_TRAINING_BUILTIN_COMMAND: JSON.stringify([DEBIAN_PYTHON, BUILTIN_TRAIN_PY]),
    ARGMAX_TRAINING_LEASE_SECONDS: '3',
    ARGMAX_TRAINING_SCHEDULER_INTERVAL_MS: '250',
    ...options.extra,
  }
}

/** The training service as a process of its own (to be SIGKILLed), once its /readyz answers. */
export async function startTrainingProcess(
  url: string,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, launchArgs(MAIN), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const deadline = Date.now() + 90_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`)
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return child
    if (Date.now() > deadline) throw new Error('the service did not get ready')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
