import type { Command } from 'commander'
import {
  createDatasetClient,
  type DatasetClient,
  type VersionView,
} from '@argmax/dataset-service/client'
import { downloadVersion } from './download.ts'
import { createUploadProgressBar } from './progress-bar.ts'
import { formatBytes, renderDataset, renderVersion, renderVersions, table } from './render.ts'
import { uploadFile } from './upload.ts'
import { commandOutput, type JsonOption } from '../output.ts'

/** What the CLI's main hands every API command (see cli/src/api-context.ts). */
export interface DatasetCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

const MiB = 1024 * 1024

export function registerDatasetCommands(program: Command, ctx: DatasetCommandContext): Command {
  const datasets = program
    .command('datasets')
    .description('datasets and their versions: create, upload, inspect, download, delete')
  // Creates carry an Idempotency-Key made once per command and reused on the client's retries.
  const api = (): DatasetClient => createDatasetClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { asJson, print, printPage } = commandOutput(ctx)

  datasets
    .command('create')
    .description('create a dataset')
    .argument('<name>', 'dataset name')
    .option('-d, --description <text>', 'what the data is', '')
    .option('-t, --tag <tag...>', 'labels to filter by (repeatable)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: JsonOption & { description: string; tag?: string[] }) => {
      const created = await api().createDataset({
        body: { name, description: options.description, tags: options.tag ?? [] },
      })
      print(
        options,
        created,
        () => `created dataset ${created.id}\n${renderDataset(created.dataset)}`,
      )
    })

  datasets
    .command('list')
    .description('list the datasets you can see')
    .option('--name <text>', 'only names containing this')
    .option('--tag <tag>', 'only datasets with this tag')
    .option('--limit <n>', 'page size', (v) => Number(v), 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        options: JsonOption & { name?: string; tag?: string; limit: number; cursor?: string },
      ) => {
        const page = await api().listDatasets({
          query: {
            name: options.name,
            tag: options.tag,
            limit: options.limit,
            cursor: options.cursor,
          },
        })
        printPage(options, page, (items) =>
          table(
            items.map((d) => ({ ...d, versions: d.versionCount })),
            ['id', 'name', 'tags', 'ownerId', 'versions', 'createdAt'],
          ),
        )
      },
    )

  datasets
    .command('show')
    .description('show a dataset, or one of its versions with schema and profile')
    .argument('<datasetId>')
    .argument('[versionId]')
    .option('--json', 'print JSON')
    .action(async (datasetId: string, versionId: string | undefined, options: JsonOption) => {
      if (versionId) {
        const version = await api().getVersion({ params: { datasetId, versionId } })
        print(options, version, () => renderVersion(version))
      } else {
        const dataset = await api().getDataset({ params: { datasetId } })
        print(options, dataset, () => renderDataset(dataset))
      }
    })

  datasets
    .command('versions')
    .description("list a dataset's versions")
    .argument('<datasetId>')
    .option('--json', 'print JSON')
    .action(async (datasetId: string, options: JsonOption) => {
      const { items } = await api().listVersions({ params: { datasetId } })
      print(options, { items }, () => renderVersions(items))
    })

  datasets
    .command('upload')
    .description('upload a CSV or JSON Lines file as a new version (resumes an interrupted one)')
    .argument('<datasetId>')
    .argument('<file>')
    .option('--format <format>', 'csv or jsonl (default: from the extension)')
    .option('--part-size-mb <mb>', 'part size in MiB (≥ 5)', (v) => Number(v))
    .option('--concurrency <n>', 'parts in flight', (v) => Number(v), 6)
    .option('--resume <uploadId>', 'resume this upload')
    .option('--no-resume', 'start afresh even if an unfinished upload of this file exists')
    .option('--no-progress', 'no progress bar (for scripts)')
    .option('--no-wait', 'return once uploaded, without waiting for validation')
    .option('--timeout <seconds>', 'how long to wait for validation', (v) => Number(v), 600)
    .option('--json', 'print JSON')
    .action(
      async (
        datasetId: string,
        file: string,
        options: JsonOption & {
          format?: 'csv' | 'jsonl'
          partSizeMb?: number
          concurrency: number
          resume?: string | boolean
          progress: boolean
          wait: boolean
          timeout: number
        },
      ) => {
        const client = api()
        const bar = options.progress && process.stderr.isTTY ? createUploadProgressBar() : undefined
        const controller = new AbortController()
        const onSignal = () => controller.abort(new Error('interrupted'))
        process.once('SIGINT', onSignal)
        let result
        try {
          result = await uploadFile({
            api: client,
            datasetId,
            filePath: file,
            concurrency: options.concurrency,
            signal: controller.signal,
            ...(options.format ? { format: options.format } : {}),
            ...(options.partSizeMb ? { partSize: Math.round(options.partSizeMb * MiB) } : {}),
            ...(typeof options.resume === 'string' ? { resumeUploadId: options.resume } : {}),
            ...(options.resume === false ? { noResume: true } : {}),
            ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
            onStart: (upload, resumed) => {
              if (resumed > 0 && !asJson(options)) {
                console.error(
                  `resuming upload ${upload.uploadId}: ${resumed} of ${upload.partCount} parts already stored`,
                )
              }
            },
          })
        } finally {
          bar?.stop()
          process.off('SIGINT', onSignal)
        }
        let version: VersionView | undefined
        if (options.wait) {
          version = await waitForOutcome(client, datasetId, result.versionId, result.position, {
            timeoutMs: options.timeout * 1000,
          })
        }
        print(options, { upload: result, version }, () =>
          version
            ? renderVersion(version)
            : `uploaded ${formatBytes(result.size)} as version ${result.versionId} (validating)`,
        )
        if (version?.status === 'REJECTED') process.exitCode = 2
      },
    )

  datasets
    .command('download')
    .description('download a validated version (checks its SHA-256)')
    .argument('<datasetId>')
    .argument('<versionId>')
    .option('-o, --output <path>', 'where to write it (default: the uploaded file name)')
    .option('--json', 'print JSON')
    .action(
      async (datasetId: string, versionId: string, options: JsonOption & { output?: string }) => {
        const saved = await downloadVersion({
          api: api(),
          datasetId,
          versionId,
          ...(options.output ? { outputPath: options.output } : {}),
        })
        print(options, saved, () => `saved ${formatBytes(saved.size)} to ${saved.path}`)
      },
    )

  datasets
    .command('delete')
    .description('delete a dataset (its files are purged after the retention period)')
    .argument('<datasetId>')
    .option('--json', 'print JSON')
    .action(async (datasetId: string, options: JsonOption) => {
      const deleted = await api().deleteDataset({ params: { datasetId } })
      print(options, deleted, () => `deleted dataset ${datasetId} at ${deleted.deletedAt}`)
    })

  return datasets
}

/** Polls the version until its validation has an outcome (read-your-writes from `position`). */
export async function waitForOutcome(
  api: DatasetClient,
  datasetId: string,
  versionId: string,
  position: number,
  { timeoutMs, intervalMs = 250 }: { timeoutMs: number; intervalMs?: number },
): Promise<VersionView> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const version = await api.getVersion({
      params: { datasetId, versionId },
      query: { minPosition: position },
    })
    if (version.status !== 'VALIDATING' && version.status !== 'UPLOADING') return version
    if (Date.now() > deadline) {
      throw new Error(`version ${versionId} is still ${version.status} after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
