import type { Command } from 'commander'
import { createRegistryClient, type RegistryClient } from '@argmax/registry-service/client'
import { renderRollout, renderRollouts } from './render.ts'
import { commandOutput, type JsonOption } from '../output.ts'

export interface RolloutCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

const positive = (what: string) => (value: string) => {
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0) throw new Error(`${what} must be a number ≥ 0`)
  return number
}

/** `10,50,100` → [10, 50, 100]. */
function stepsOption(value: string): number[] {
  const steps = value.split(',').map((part) => Number(part.trim()))
  if (steps.some((p) => !Number.isInteger(p)))
    throw new Error('--steps takes percentages, e.g. 10,50,100')
  return steps
}

const OPERATIONS = {
  pause: 'pauseRollout',
  resume: 'resumeRollout',
  approve: 'approveRollout',
  abort: 'abortRollout',
  rollback: 'rollbackRollout',
} as const
const DESCRIPTIONS: Record<keyof typeof OPERATIONS, string> = {
  pause: 'pause a rollout: its step stays, the window starts again at the resume (admin)',
  resume: 'resume a paused rollout (admin)',
  approve: 'approve the next step or the promotion after a passing step (admin)',
  abort: 'abort: the canary is removed, the stable unchanged, no verdict (admin)',
  rollback:
    'roll back: the canary removed or, once promoted, the old stable restored; the candidate annotated as rejected (admin)',
}

/** `argmax rollouts list | show | start | pause | resume | approve | abort | rollback`. */
export function registerRolloutCommands(program: Command, ctx: RolloutCommandContext): Command {
  const rollouts = program
    .command('rollouts')
    .description('canary rollouts: a candidate version against the stable one, step by step')
  const api = (): RegistryClient => createRegistryClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { print } = commandOutput(ctx)

  rollouts
    .command('list')
    .description('the rollouts you can see, newest first')
    .option('--model <name>', 'only this model')
    .option('--active', 'only rollouts in progress')
    .option('--ended', 'only ended rollouts')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .option('--json', 'print JSON')
    .action(
      async (
        options: JsonOption & { model?: string; active?: boolean; ended?: boolean; limit: number },
      ) => {
        const state = options.active ? 'active' : options.ended ? 'ended' : undefined
        const page = await api().listRollouts({
          query: { model: options.model, state, limit: options.limit },
        })
        print(options, page, () => renderRollouts(page.items))
      },
    )

  rollouts
    .command('show')
    .description('a rollout with its timeline: every decision with its evidence')
    .argument('<id>', 'e.g. movies.3')
    .option('--json', 'print JSON')
    .action(async (id: string, options: JsonOption) => {
      const details = await api().getRollout({ params: { id } })
      print(options, details, () => renderRollout(details))
    })

  rollouts
    .command('start')
    .description("start a canary of a version against the model's stable one")
    .argument('<model>')
    .argument('<candidate>', 'a version number or alias (challenger)')
    .requiredOption('-r, --reason <text>', 'why (recorded)')
    .option('--steps <percentages>', 'canary steps, the last 100', stepsOption)
    .option('--window <seconds>', 'how long each step is held', positive('--window'))
    .option(
      '--min-requests <n>',
      "the candidate's requests before a verdict",
      positive('--min-requests'),
    )
    .option(
      '--max-error-rate <rate>',
      'ceiling of the error rate (0–1)',
      positive('--max-error-rate'),
    )
    .option('--max-p99-ratio <ratio>', "× the stable's p99 latency", positive('--max-p99-ratio'))
    .option(
      '--step-deadline <seconds>',
      'a step still short of its requests or labels this long fails: insufficient traffic',
      positive('--step-deadline'),
    )
    .option(
      '--quality <metric>',
      'also judge live quality over labels: mae, rmse, accuracy or log_loss (with --min-labels and --max-degradation)',
    )
    .option(
      '--min-labels <n>',
      "the candidate's labelled predictions before a verdict",
      positive('--min-labels'),
    )
    .option(
      '--max-degradation <ratio>',
      "relative degradation allowed against the stable's metric (0.05: 5 % worse)",
      positive('--max-degradation'),
    )
    .option('--approval', 'an admin approves each next step and the promotion')
    .option('--json', 'print JSON')
    .action(
      async (
        model: string,
        candidate: string,
        options: JsonOption & {
          reason: string
          steps?: number[]
          window?: number
          minRequests?: number
          maxErrorRate?: number
          maxP99Ratio?: number
          stepDeadline?: number
          quality?: string
          minLabels?: number
          maxDegradation?: number
          approval?: boolean
        },
      ) => {
        const { quality, minLabels, maxDegradation } = options
        if (quality !== undefined && (minLabels === undefined || maxDegradation === undefined)) {
          throw new Error('--quality needs --min-labels and --max-degradation')
        }
        if (quality === undefined && (minLabels !== undefined || maxDegradation !== undefined)) {
          throw new Error('--min-labels and --max-degradation go with --quality <metric>')
        }
        const criteria = {
          ...(options.window !== undefined ? { windowSeconds: options.window } : {}),
          ...(options.minRequests !== undefined ? { minRequests: options.minRequests } : {}),
          ...(options.maxErrorRate !== undefined ? { maxErrorRate: options.maxErrorRate } : {}),
          ...(options.maxP99Ratio !== undefined ? { maxP99Ratio: options.maxP99Ratio } : {}),
          ...(options.stepDeadline !== undefined
            ? { stepDeadlineSeconds: options.stepDeadline }
            : {}),
          ...(quality !== undefined
            ? {
                quality: {
                  // The API names the metrics it takes when this is not one of them.
                  metric: quality as 'mae',
                  minLabels: minLabels!,
                  maxDegradation: maxDegradation!,
                },
              }
            : {}),
        }
        const started = await api().startRollout({
          body: {
            model,
            candidate,
            reason: options.reason,
            ...(options.steps ? { steps: options.steps } : {}),
            ...(Object.keys(criteria).length > 0 ? { criteria } : {}),
            ...(options.approval ? { requireApproval: true } : {}),
          },
        })
        print(
          options,
          started,
          () =>
            `started rollout ${started.rollout.rolloutId}: version ${started.rollout.candidate} against ${started.rollout.stable}, steps ${started.rollout.steps.join(' → ')} %`,
        )
      },
    )

  for (const [operation, route] of Object.entries(OPERATIONS) as Array<
    [keyof typeof OPERATIONS, (typeof OPERATIONS)[keyof typeof OPERATIONS]]
  >) {
    rollouts
      .command(operation)
      .description(DESCRIPTIONS[operation])
      .argument('<id>', 'e.g. movies.3')
      .requiredOption('-r, --reason <text>', 'why (recorded)')
      .option('--json', 'print JSON')
      .action(async (id: string, options: JsonOption & { reason: string }) => {
        const answer = await api()[route]({ params: { id }, body: { reason: options.reason } })
        print(options, answer, () => `rollout ${id}: ${answer.rollout.status.replace('_', ' ')}`)
      })
  }
  return rollouts
}
