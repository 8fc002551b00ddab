import type { Command } from 'commander'
import {
  createTrainingClient,
  type CreateRunInput,
  type TrainingClient,
} from '@argmax/training-service/client'
import { followRun } from './follow.ts'
import { renderRun, renderRuns } from './render.ts'
import { commandOutput, type JsonOption } from '../output.ts'

/** What the CLI's main hands every API command (see cli/src/api-context.ts). */
export interface RunCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

interface CreateOptions extends JsonOption {
  model: string
  datasetVersion: string
  target: string
  features?: string
  task?: 'regression' | 'classification'
  trainer: 'xgboost' | 'linear' | 'custom'
  image?: string
  command?: string[]
  param: Record<string, unknown>
  priority?: 'high' | 'normal' | 'low'
  cpu?: number
  memoryMb?: number
  gpus?: number
  gpuProfile?: string
  timeout?: number
  seed?: number
  checkpointEvery?: number
  follow?: boolean
}

/** `--param n_estimators=300`: numbers, booleans and null as JSON reads them, else text. */
export function parseParam(value: string, previous: Record<string, unknown> = {}) {
  const at = value.indexOf('=')
  if (at < 1) throw new Error(`--param takes NAME=VALUE, got '${value}'`)
  const raw = value.slice(at + 1)
  let parsed: unknown = raw
  try {
    parsed = JSON.parse(raw)
  } catch {
    // text
  }
  return { ...previous, [value.slice(0, at)]: parsed }
}

const positive = (what: string) => (value: string) => {
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0) throw new Error(`${what} must be a number ≥ 0`)
  return number
}

/** The request a `runs create` command line stands for (no defaults: the service has them). */
export function createRunBody(options: CreateOptions): CreateRunInput {
  const resources = {
    ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
    ...(options.memoryMb !== undefined ? { memoryMb: options.memoryMb } : {}),
    ...(options.gpus !== undefined ? { gpus: options.gpus } : {}),
    ...(options.gpuProfile !== undefined ? { gpuProfile: options.gpuProfile } : {}),
  }
  return {
    model: options.model,
    datasetVersionId: options.datasetVersion,
    target: options.target,
    trainer: options.trainer,
    ...(options.features ? { features: options.features.split(',').map((f) => f.trim()) } : {}),
    ...(options.task ? { task: options.task } : {}),
    ...(options.image ? { image: options.image } : {}),
    ...(options.command ? { command: options.command } : {}),
    ...(Object.keys(options.param).length > 0 ? { params: options.param } : {}),
    ...(options.priority ? { priority: options.priority } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(options.timeout !== undefined ? { timeoutSeconds: options.timeout } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
  }
}

export function registerRunCommands(program: Command, ctx: RunCommandContext): Command {
  const runs = program
    .command('runs')
    .description('training runs: submit, follow, inspect, cancel, retry')
  // Creates carry an Idempotency-Key made once per command and reused on the client's retries.
  const api = (): TrainingClient => createTrainingClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { asJson, print, printPage } = commandOutput(ctx)
  /** Follows to the end; a run that did not end READY makes the command fail. */
  const follow = async (client: TrainingClient, runId: string, options: JsonOption) => {
    const run = await followRun(client, runId, {
      write: (text) => process.stderr.write(text),
      tty: Boolean(process.stderr.isTTY),
    })
    print(options, run, () => renderRun(run))
    if (run.status !== 'READY') process.exitCode = 1
  }

  runs
    .command('create')
    .description('submit a training run on a VALIDATED dataset version')
    .requiredOption('-m, --model <name>', 'the registry model it trains (created on first use)')
    .requiredOption('-d, --dataset-version <id>', 'the dataset version to train on')
    .requiredOption('-t, --target <column>', 'the column to predict')
    .option('--features <columns>', 'comma-separated feature columns (default: all others)')
    .option('--task <task>', 'regression or classification (default: from the target)')
    .option('--trainer <trainer>', 'xgboost, linear or custom', 'xgboost')
    .option('--image <image>', 'custom trainer: container image')
    .option('--command <args...>', 'custom trainer: command')
    .option('-p, --param <name=value>', 'a trainer parameter (repeatable)', parseParam, {})
    .option('--priority <priority>', 'high, normal or low')
    .option('--cpu <cores>', 'CPU cores', positive('--cpu'))
    .option('--memory-mb <mb>', 'memory in MB', positive('--memory-mb'))
    .option('--gpus <n>', 'GPUs', positive('--gpus'))
    .option('--gpu-profile <resource>', 'GPU resource, e.g. nvidia.com/mig-1g.5gb')
    .option('--timeout <seconds>', 'run timeout (default 36 h)', positive('--timeout'))
    .option('--seed <n>', 'split and training seed', positive('--seed'))
    .option(
      '--checkpoint-every <rounds>',
      'checkpoint every N rounds',
      positive('--checkpoint-every'),
    )
    .option('-f, --follow', 'follow the run to its end with a live progress line')
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions) => {
      const client = api()
      const created = await client.createRun({ body: createRunBody(options) })
      if (!options.follow) {
        print(options, created, () => `queued run ${created.id} (${created.run.status})`)
        return
      }
      if (!asJson(options)) console.error(`queued run ${created.id}`)
      await follow(client, created.id, options)
    })

  runs
    .command('list')
    .description('the runs you can see, newest first')
    .option('--status <status>', 'PENDING, TRAINING, READY, FAILED, CANCELLED, DEAD_LETTERED')
    .option('--owner <user>', 'admins and analysts: one owner')
    .option('--dataset <id>', 'runs on this dataset')
    .option('--dataset-version <id>', 'runs on this dataset version')
    .option('--model <name>', 'runs training this model')
    .option('--dead-letters', 'the dead-lettered runs, oldest first (admins)')
    .option('--limit <n>', 'page size', (v) => Number(v), 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        options: JsonOption & {
          status?: 'PENDING'
          owner?: string
          dataset?: string
          datasetVersion?: string
          model?: string
          deadLetters?: boolean
          limit: number
          cursor?: string
        },
      ) => {
        const page = options.deadLetters
          ? await api().listDeadLetters({ query: { limit: options.limit, cursor: options.cursor } })
          : await api().listRuns({
              query: {
                status: options.status,
                owner: options.owner,
                datasetId: options.dataset,
                datasetVersionId: options.datasetVersion,
                model: options.model,
                limit: options.limit,
                cursor: options.cursor,
              },
            })
        printPage(options, page, renderRuns)
      },
    )

  runs
    .command('show')
    .description('a run: attempts, progress, failure, test metrics next to the baseline')
    .argument('<runId>')
    .option('-f, --follow', 'follow the run to its end with a live progress line')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: JsonOption & { follow?: boolean }) => {
      const client = api()
      if (options.follow) return follow(client, runId, options)
      const run = await client.getRun({ params: { runId }, query: {} })
      print(options, run, () => renderRun(run))
    })

  runs
    .command('logs')
    .description("an attempt's log (default: the latest attempt)")
    .argument('<runId>')
    .option('--attempt <n>', 'the attempt', positive('--attempt'))
    .option('--lines <n>', 'the last N lines', positive('--lines'), 200)
    .option('--json', 'print JSON')
    .action(async (runId: string, options: JsonOption & { attempt?: number; lines: number }) => {
      const logs = await api().getRunLogs({
        params: { runId },
        query: { lines: options.lines, ...(options.attempt ? { attempt: options.attempt } : {}) },
      })
      print(options, logs, () => logs.text.trimEnd())
    })

  runs
    .command('cancel')
    .description('cancel a PENDING or TRAINING run (its job is killed)')
    .argument('<runId>')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: JsonOption) => {
      const cancelled = await api().cancelRun({ params: { runId } })
      print(options, cancelled, () => `run ${runId} is ${cancelled.run.status}`)
    })

  runs
    .command('retry')
    .description('give a dead-lettered run another round of attempts (admins)')
    .argument('<runId>')
    .option('-f, --follow', 'follow the run to its end')
    .option('--json', 'print JSON')
    .action(async (runId: string, options: JsonOption & { follow?: boolean }) => {
      const client = api()
      const retried = await client.retryRun({ params: { runId } })
      if (options.follow) return follow(client, runId, options)
      print(options, retried, () => `run ${runId} is ${retried.run.status} again`)
    })

  return runs
}
