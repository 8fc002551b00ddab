import type { Command } from 'commander'
import { createRegistryClient, type RegistryClient } from '@argmax/registry-service/client'
import { parseMetrics, registerOnnxFile } from './register.ts'
import {
  renderLineage,
  renderModel,
  renderModels,
  renderRelease,
  renderReleases,
  renderVersion,
  renderVersions,
} from './render.ts'
import { commandOutput, type JsonOption } from '../output.ts'

/** What the CLI's main hands every API command (see cli/src/api-context.ts). */
export interface ModelCommandContext {
  readonly apiUrl: string
  readonly token: string | undefined
  readonly json: boolean
}

const integer = (what: string) => (value: string) => {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1) throw new Error(`${what} must be a version number`)
  return number
}

/** `3:10` → canary version 3 at 10 %. */
function canaryOption(value: string): { version: number; percent: number } {
  const match = /^([1-9][0-9]*):([0-9]+(?:\.[0-9]+)?)$/.exec(value)
  if (!match) throw new Error('--canary takes VERSION:PERCENT, e.g. 3:10')
  return { version: Number(match[1]), percent: Number(match[2]) }
}

export function registerModelCommands(program: Command, ctx: ModelCommandContext): Command {
  const models = program
    .command('models')
    .description('models, versions and their metrics, lineage, aliases and releases')
  // Creates carry an Idempotency-Key made once per command and reused on the client's retries.
  const api = (): RegistryClient => createRegistryClient({ baseUrl: ctx.apiUrl, token: ctx.token })
  const { print, printPage } = commandOutput(ctx)

  models
    .command('list')
    .description('the models you can see')
    .option('--name <text>', 'only names containing this')
    .option('--tag <tag>', 'only models with this tag')
    .option('--deleted', 'include deleted models')
    .option('--limit <n>', 'page size', (v) => Number(v), 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        options: JsonOption & {
          name?: string
          tag?: string
          deleted?: boolean
          limit: number
          cursor?: string
        },
      ) => {
        const page = await api().listModels({
          query: {
            name: options.name,
            tag: options.tag,
            includeDeleted: options.deleted,
            limit: options.limit,
            cursor: options.cursor,
          },
        })
        printPage(options, page, renderModels)
      },
    )

  models
    .command('show')
    .description('a model (release, aliases), or one of its versions (by number or alias)')
    .argument('<name>')
    .argument('[version]', 'a version number or alias: champion, latest, …')
    .option('--json', 'print JSON')
    .action(async (name: string, version: string | undefined, options: JsonOption) => {
      if (version) {
        const details = await api().getVersion({ params: { name, version } })
        print(options, details, () => renderVersion(details))
      } else {
        const model = await api().getModel({ params: { name } })
        print(options, model, () => renderModel(model))
      }
    })

  models
    .command('create')
    .description('create a model (models are also created by the first training run naming them)')
    .argument('<name>')
    .option('-d, --description <text>', 'what it predicts', '')
    .option('-t, --tag <tag...>', 'labels to filter by')
    .option('--task <task>', 'regression or classification')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: JsonOption & {
          description: string
          tag?: string[]
          task?: 'regression' | 'classification'
        },
      ) => {
        const created = await api().createModel({
          body: {
            name,
            description: options.description,
            tags: options.tag ?? [],
            ...(options.task ? { task: options.task } : {}),
          },
        })
        print(options, created, () => `created model ${name}`)
      },
    )

  models
    .command('delete')
    .description('delete a model (it stops serving; restorable until purged after 90 days)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: JsonOption) => {
      const deleted = await api().deleteModel({ params: { name } })
      print(options, deleted, () => `deleted model ${name} at ${deleted.deletedAt}`)
    })

  models
    .command('versions')
    .description("a model's versions with their metrics side by side")
    .argument('<name>')
    .option('--compare <metric>', 'sort by this metric, best first')
    .option('--order <order>', 'asc or desc (default: by the metric: errors ascending)')
    .option('--deleted', 'include deleted versions')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: JsonOption & { compare?: string; order?: 'asc' | 'desc'; deleted?: boolean },
      ) => {
        const list = await api().listVersions({
          params: { name },
          query: {
            compare: options.compare,
            order: options.order,
            includeDeleted: options.deleted,
          },
        })
        print(options, list, () => renderVersions(list))
      },
    )

  models
    .command('register')
    .description('register an ONNX file by hand as the next version (checked in ONNX Runtime)')
    .argument('<name>')
    .argument('<file>', 'the model.onnx')
    .requiredOption(
      '-s, --signature <schema.json>',
      "its inputs and outputs (a ModelSignature, e.g. a trainer's schema.json)",
    )
    .option(
      '-m, --metrics <metrics>',
      'name=value,… or a JSON file (a metrics.json gives its test metrics)',
    )
    .option('-d, --description <text>', 'what this version is')
    .option('--create', 'create the model if it does not exist')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        file: string,
        options: JsonOption & {
          signature: string
          metrics?: string
          description?: string
          create?: boolean
        },
      ) => {
        const version = await registerOnnxFile({
          api: api(),
          model: name,
          filePath: file,
          signaturePath: options.signature,
          ...(options.metrics ? { metrics: await parseMetrics(options.metrics) } : {}),
          ...(options.description ? { description: options.description } : {}),
          ...(options.create ? { create: true } : {}),
        })
        print(
          options,
          version,
          () => `registered ${name} version ${version.version} (sha256 ${version.artifact.sha256})`,
        )
      },
    )

  models
    .command('alias')
    .description(
      'list aliases, point one at a version, or remove one (champion moves with the release)',
    )
    .argument('<name>')
    .argument('[alias]')
    .argument('[version]', 'the version it should name', integer('version'))
    .option('--remove', 'remove the alias')
    .option('--history', "show the alias's moves")
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        alias: string | undefined,
        version: number | undefined,
        options: JsonOption & { remove?: boolean; history?: boolean },
      ) => {
        const client = api()
        if (!alias) {
          const { items } = await client.listAliases({ params: { name } })
          print(options, { items }, () =>
            items
              .map((a) => `${a.alias} → ${a.version}${a.computed ? ' (computed)' : ''}`)
              .join('\n'),
          )
        } else if (options.remove) {
          const removed = await client.removeAlias({ params: { name, alias } })
          print(options, removed, () => `removed alias ${alias} of ${name}`)
        } else if (options.history || version === undefined) {
          const { items } = await client.aliasHistory({ params: { name, alias } })
          print(options, { items }, () =>
            items
              .map(
                (e) =>
                  `${e.at}  ${e.version ?? 'removed'} (was ${e.previous ?? '-'})  ${e.reason} by ${e.actor}`,
              )
              .join('\n'),
          )
        } else {
          const set = await client.setAlias({ params: { name, alias }, body: { version } })
          print(options, set, () => `${name}: ${alias} → ${set.alias.version}`)
        }
      },
    )

  models
    .command('release')
    .description('show the release (what serves the model), its history, or change it')
    .argument('<name>')
    .option('--stable <version>', 'the version that serves', integer('--stable'))
    .option('--canary <version:percent>', 'a candidate taking this share of traffic', canaryOption)
    .option(
      '--shadow <version>',
      'a version receiving a copy of every request',
      integer('--shadow'),
    )
    .option('-r, --reason <text>', 'why (recorded with the change)')
    .option('--breaking', 'release even though the inputs or outputs change')
    .option('--history', 'list every change')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: JsonOption & {
          stable?: number
          canary?: { version: number; percent: number }
          shadow?: number
          reason?: string
          breaking?: boolean
          history?: boolean
        },
      ) => {
        const client = api()
        if (options.history) {
          const { items } = await client.listReleases({ params: { name } })
          print(options, { items }, () => renderReleases(items))
          return
        }
        if (options.stable === undefined) {
          const release = await client.getRelease({ params: { name } })
          print(options, release, () => renderRelease(release))
          return
        }
        if (!options.reason) throw new Error('--reason is required to change a release')
        const changed = await client.setRelease({
          params: { name },
          body: {
            stable: options.stable,
            reason: options.reason,
            ...(options.canary ? { canary: options.canary } : {}),
            ...(options.shadow !== undefined ? { shadow: options.shadow } : {}),
            ...(options.breaking ? { breaking: true } : {}),
          },
        })
        print(options, changed, () => renderRelease(changed.release))
      },
    )

  models
    .command('rollback')
    .description('restore the previous release exactly (one step)')
    .argument('<name>')
    .requiredOption('-r, --reason <text>', 'why (recorded with the change)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: JsonOption & { reason: string }) => {
      const changed = await api().rollbackRelease({
        params: { name },
        body: { reason: options.reason },
      })
      print(options, changed, () => renderRelease(changed.release))
    })

  models
    .command('lineage')
    .description("a version's lineage: dataset → dataset version → run → attempt → version")
    .argument('<name>')
    .argument('[version]', 'a version number or alias', 'latest')
    .option('--json', 'print JSON')
    .action(async (name: string, version: string, options: JsonOption) => {
      const lineage = await api().getLineage({ params: { name, version } })
      print(options, lineage, () => renderLineage(lineage.root))
    })

  return models
}
