import type { Command } from 'commander'
import { createFeedbackClient, type FeedbackClient } from '@argmax/feedback-service/client'
import { table } from '../datasets/render.ts'
import { metricsOf, renderChart, renderDrift, renderQuality } from './render.ts'
import { commandOutput, type JsonOption } from '../output.ts'

export interface QualityCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

const WINDOWS = ['5m', '1h', '1d', 'release'] as const
type Window = (typeof WINDOWS)[number]

function windowOf(value: string): Window {
  if (!(WINDOWS as readonly string[]).includes(value)) {
    throw new Error(`--window must be one of ${WINDOWS.join(', ')}`)
  }
  return value as Window
}

/**
 * `argmax quality <model>`: live quality per version (a table) and a terminal chart of one
 * metric over the window; `argmax quality <model> --drift`: PSI per input. `argmax monitors`
 * lists monitors and their states. Both through the feedback service's typed client.
 */
export function registerQualityCommands(program: Command, ctx: QualityCommandContext): void {
  const api = (): FeedbackClient => createFeedbackClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { asJson } = commandOutput(ctx)

  program
    .command('quality')
    .description("a model's live quality per version, a chart of a metric over time, and its drift")
    .argument('<model>', 'model name')
    .option('-w, --window <window>', `5m, 1h, 1d or release`, '1h')
    .option('-v, --version <n>', 'one version only', (v) => Number(v))
    .option('-m, --metric <name>', 'the metric to chart (default: mae or accuracy)')
    .option('--buckets <n>', 'points in the chart', (v) => Number(v), 60)
    .option('--drift', 'also show PSI per input against the training profile')
    .option('--json', 'print JSON')
    .action(
      async (
        model: string,
        options: JsonOption & {
          window: string
          version?: number
          metric?: string
          buckets: number
          drift?: boolean
        },
      ) => {
        const window = windowOf(options.window)
        const query = {
          window,
          buckets: options.buckets,
          ...(options.version !== undefined ? { version: options.version } : {}),
        }
        const quality = await api().getQuality({ params: { model }, query })
        const drift = options.drift
          ? await api().getDrift({
              params: { model },
              query: {
                window,
                ...(options.version !== undefined ? { version: options.version } : {}),
              },
            })
          : undefined
        if (asJson(options)) {
          console.log(JSON.stringify(drift ? { quality, drift } : quality, null, 2))
          return
        }
        const metric = options.metric ?? metricsOf(quality.task)[0] ?? 'mae'
        console.log(renderQuality(quality))
        console.log('')
        console.log(renderChart(quality, metric))
        if (drift) {
          console.log('')
          console.log(renderDrift(drift))
        }
      },
    )

  const monitors = program.command('monitors').description('monitors of live quality and drift')
  monitors
    .command('list')
    .description('monitors you can see, with their states')
    .option('--model <name>', 'of one model')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption & { model?: string }) => {
      const answer = await api().listMonitors({
        query: options.model ? { model: options.model } : {},
      })
      if (asJson(options)) {
        console.log(JSON.stringify(answer, null, 2))
        return
      }
      console.log(
        table(
          answer.items.map((m) => ({
            id: m.id,
            model: m.model,
            name: m.name,
            state: m.state,
            since: m.stateSince,
            rule: `${m.rule.metric}${m.rule.feature ? `(${m.rule.feature})` : ''} ${m.rule.comparison} ${
              m.rule.threshold ?? `${m.rule.relativeToTest}× test`
            } over ${m.rule.window} for ${m.rule.forSeconds}s`,
          })),
          ['id', 'model', 'name', 'state', 'since', 'rule'],
        ),
      )
    })
}
