import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '@argmax/telemetry'
import type { TrainingSettings } from '../config.ts'
import { detectGpus } from './local/gpus.ts'
import { LocalRunner } from './local/local-runner.ts'
import type { Runner } from './runner.ts'

/** A runner the service can stop (the local one stops watching its jobs). */
export type ServiceRunner = Runner & { stop?(): Promise<void> }

/**
 * The runner `ARGMAX_TRAINING_RUNNER` names. `local` is built here. `kubernetes` lives in
 * `./kubernetes/` (its own module, with its own settings read from the environment); it is
 * loaded only when configured, so a local installation needs none of its dependencies.
 */
export async function createRunner(
  settings: TrainingSettings,
  context: { env: Record<string, string | undefined>; logger: Logger; killJobsOnStop?: boolean },
): Promise<ServiceRunner> {
  if (settings.runner === 'local') {
    const marker = context.env['ARGMAX_STACK_DIR']
    return new LocalRunner({
      workDir: settings.local.workDir ?? join(tmpdir(), 'argmax-training'),
      slots: settings.local.slots,
      gpus: settings.local.gpus ?? detectGpus(),
      builtinCommand: settings.local.builtinCommand,
      // `argmax down` finds stragglers by the stack's marker: jobs carry it too.
      ...(marker ? { baseEnv: { ARGMAX_STACK_DIR: marker } } : {}),
      ...(context.killJobsOnStop ? { killJobsOnStop: true } : {}),
      log: context.logger,
    })
  }
  const { createKubernetesRunner } = await import('./kubernetes/index.ts')
  return createKubernetesRunner({ env: context.env, logger: context.logger })
}
