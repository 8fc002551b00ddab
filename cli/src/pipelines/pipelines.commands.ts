import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  createTrainingClient,
  type CreatePipelineInput,
  type TrainingClient,
} from '@argmax/training-service/client'
import { renderPipeline, renderPipelines } from './render.ts'
import { commandOutput, type JsonOption } from '../output.ts'

export interface PipelineCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

const OPERATIONS = {
  trigger: 'triggerPipeline',
  approve: 'approvePipeline',
  abort: 'abortPipeline',
} as const
const DESCRIPTIONS: Record<keyof typeof OPERATIONS, string> = {
  trigger: 'start a run by hand; coalesced into the run in progress if there is one (admin)',
  approve: "approve the run's hand-over to a rollout (admin)",
  abort: 'abort the run in progress; its training run is cancelled (admin)',
}

/** `argmax pipelines list | show | create | trigger | approve | abort`. */
export function registerPipelineCommands(program: Command, ctx: PipelineCommandContext): Command {
  const pipelines = program
    .command('pipelines')
    .description(
      'retrain pipelines: triggers → data → train → evaluate → gate → challenger → rollout',
    )
  const api = (): TrainingClient => createTrainingClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { print } = commandOutput(ctx)

  pipelines
    .command('list')
    .description('the pipelines you can see')
    .option('--model <name>', 'only this model')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption & { model?: string }) => {
      const page = await api().listPipelines({ query: { model: options.model } })
      print(options, page, () => renderPipelines(page.items))
    })

  pipelines
    .command('show')
    .description("a pipeline, its current run and the timeline of the run's steps")
    .argument('<model>')
    .option('--all', 'the timeline of every run')
    .option('--json', 'print JSON')
    .action(async (model: string, options: JsonOption & { all?: boolean }) => {
      const details = await api().getPipeline({
        params: { model },
        query: options.all ? { all: true } : {},
      })
      print(options, details, () => renderPipeline(details))
    })

  pipelines
    .command('create')
    .description('create a pipeline from a JSON file (the body of POST /v1/pipelines)')
    .requiredOption('-f, --file <path>', 'JSON: {model, data, training, evaluation, …}')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption & { file: string }) => {
      const body = JSON.parse(readFileSync(options.file, 'utf8')) as CreatePipelineInput
      const created = await api().createPipeline({ body })
      print(options, created, () => `created the pipeline of ${created.pipeline.model}`)
    })

  for (const [operation, route] of Object.entries(OPERATIONS) as Array<
    [keyof typeof OPERATIONS, (typeof OPERATIONS)[keyof typeof OPERATIONS]]
  >) {
    pipelines
      .command(operation)
      .description(DESCRIPTIONS[operation])
      .argument('<model>')
      .requiredOption('-r, --reason <text>', 'why (recorded)')
      .option('--json', 'print JSON')
      .action(async (model: string, options: JsonOption & { reason: string }) => {
        const answer = await api()[route]({ params: { model }, body: { reason: options.reason } })
        const run = answer.pipeline.current
        print(options, answer, () =>
          run
            ? `pipeline ${model}: run ${run.pipelineRunId} ${run.status.replace('_', ' ')} (step ${run.step.replace(/_/g, ' ')})`
            : `pipeline ${model}: no run`,
        )
      })
  }
  return pipelines
}
