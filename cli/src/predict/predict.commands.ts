import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Command } from 'commander'
import { createPredictionClient, type PredictionRow } from '@argmax/inference-service/grpc-client'
import { createInferenceClient, type BatchPredictionView } from '@argmax/inference-service/client'
import { commandOutput } from '../output.ts'
import { recordBatches, recordFormatOf } from './read-records.ts'

/** What the CLI's main hands these commands (see cli/src/api-context.ts). */
export interface PredictCommandContext {
  readonly apiUrl: string
  readonly grpcAddress: string
  readonly token: string | undefined
  readonly json: boolean
}

interface PredictOptions {
  input?: string
  format?: string
  version?: string
  batchSize: number
  json?: boolean
}

/**
 * `argmax predict <model> --input rows.jsonl|rows.csv`: predictions over the gateway's gRPC port
 * (the KServe v2 protocol), each row with its prediction id — what feedback takes labels for. A
 * CSV file is read as batch predictions read one: the model's inputs only, typed by its signature.
 * `argmax predict batch …`: a batch prediction over a dataset version, waited for and
 * downloaded.
 */
export function registerPredictCommands(program: Command, ctx: PredictCommandContext): Command {
  const output = commandOutput(ctx)
  const predict = program
    .command('predict')
    .description(
      'predict with a released model over gRPC: JSON Lines of input name → value, or CSV',
    )
    .argument('<model>', 'the model name')
    // Checked in the action: a required option here would be demanded of `predict batch` too.
    .option(
      '-i, --input <file>',
      'the rows: JSON Lines, or CSV with a header (- for stdin); required',
    )
    .option('--format <format>', 'csv or jsonl (default: csv for a .csv file, else jsonl)')
    .option('--version <version>', 'a version instead of the release (pins it)')
    .option('--batch-size <rows>', 'rows per request', (v) => Number(v), 500)
    .option('--json', 'print JSON')
    .action(async (model: string, options: PredictOptions) => {
      const input = options.input
      if (!input)
        throw new Error(
          "give the rows to predict with --input <file.jsonl|file.csv> ('-' for stdin)",
        )
      const format = recordFormatOf(input, options.format)
      const client = createPredictionClient(ctx.grpcAddress, ctx.token)
      const asJson = output.asJson(options)
      const rows: PredictionRow[] = []
      let version = ''
      try {
        for await (const batch of recordBatches(input, options.batchSize, format)) {
          const answer = await client.predict(model, batch, {
            ...(options.version ? { version: options.version } : {}),
            firstRow: rows.length,
            fromCsv: format === 'csv',
          })
          version = answer.version
          rows.push(...answer.rows)
        }
      } finally {
        client.close()
      }
      // Nothing was sent, so there is no version to report either.
      if (rows.length === 0) throw new Error(`${input}: no rows to predict`)
      if (asJson) {
        console.log(JSON.stringify({ model, version, predictions: rows }, null, 2))
        return
      }
      console.log(`model ${model} version ${version}: ${rows.length} predictions`)
      console.log(['ROW', 'PREDICTION', 'PREDICTION ID'].join('\t'))
      for (const row of rows)
        console.log([row.row, formatValue(row.prediction), row.predictionId].join('\t'))
    })

  predict
    .command('batch')
    .description('predict every row of a dataset version, wait, and download the predictions')
    .argument('<model>', 'the model name')
    .requiredOption('--dataset <datasetId>', 'the dataset')
    .requiredOption('--dataset-version <versionId>', 'its validated version')
    .option('--version <version>', 'the model version', (v) => Number(v))
    .option('--alias <alias>', 'or the release role: stable, canary or shadow (default stable)')
    .option('-o, --output <file>', 'where to save the predictions (default <batch id>.jsonl)')
    .option('--no-wait', 'return once requested')
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 3600)
    .option('--json', 'print JSON')
    .action(
      async (
        model: string,
        options: {
          dataset: string
          datasetVersion: string
          version?: number
          alias?: 'stable' | 'canary' | 'shadow'
          output?: string
          wait: boolean
          timeout: number
          json?: boolean
        },
      ) => {
        const api = createInferenceClient({ baseUrl: ctx.apiUrl, token: ctx.token })
        const asJson = output.asJson(options)
        let batch: BatchPredictionView = await api.requestBatchPrediction({
          body: {
            model,
            ...(options.version !== undefined
              ? { version: options.version }
              : { alias: options.alias ?? 'stable' }),
            dataset: { datasetId: options.dataset, versionId: options.datasetVersion },
          },
        })
        if (!asJson) console.error(`batch prediction ${batch.id}: ${batch.status}`)
        const deadline = Date.now() + options.timeout * 1000
        while (options.wait && (batch.status === 'QUEUED' || batch.status === 'RUNNING')) {
          if (Date.now() > deadline) throw new Error(`batch ${batch.id} is still ${batch.status}`)
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          batch = await api.getBatchPrediction({ params: { batchId: batch.id } })
          if (!asJson)
            console.error(
              `  ${batch.status}: ${batch.rowsDone} rows predicted, ${batch.rowsFailed} refused`,
            )
        }
        let saved: string | undefined
        if (batch.status === 'SUCCEEDED') {
          const result = await api.getBatchPredictionResult({ params: { batchId: batch.id } })
          saved = options.output ?? `${batch.id}.jsonl`
          const response = await fetch(result.url)
          if (!response.ok || !response.body)
            throw new Error(`downloading the predictions: HTTP ${response.status}`)
          await pipeline(Readable.fromWeb(response.body as never), createWriteStream(saved))
        }
        if (asJson) console.log(JSON.stringify({ batch, saved }, null, 2))
        else if (saved)
          console.log(
            `saved ${batch.rowsDone} predictions (${batch.rowsFailed} rows refused) to ${saved}`,
          )
        else if (batch.status === 'FAILED') console.log(`batch ${batch.id} failed: ${batch.error}`)
        else
          console.log(
            `batch ${batch.id} is ${batch.status}; 'argmax predict batch' again or GET /v1/batch-predictions/${batch.id}`,
          )
        if (batch.status === 'FAILED') process.exitCode = 2
      },
    )
  return predict
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4)
  return JSON.stringify(value)
}
