import type { Command } from 'commander'
import {
  rebuildServiceProjection,
  type RebuildReport,
  type ServiceProjections,
} from '@argmax/projections'
import { s3Settings, type S3Settings } from '@argmax/config'
import { datasetProjections, jsonDocumentReader } from '@argmax/dataset-service'
import { createS3Client } from '@argmax/storage'
// The projections entry only: the service's index would load ONNX Runtime into the CLI.
import { registryProjections } from '@argmax/registry-service/projections'
import { createLogger } from '@argmax/telemetry'
import { readState } from '../stack/state.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

interface Connections {
  natsUrl: string
  postgresUrl: string
  /** For projections that read objects (the dataset catalog's stored profiles). */
  s3: S3Settings | undefined
}

interface ServiceEntry {
  schema: string
  projections: Array<{ name: string; stream: string }>
  rebuild(connections: Connections, name: string): Promise<RebuildReport>
}

/** Keeps each service's database type inside its own closure, so one table can hold them all. */
function entryOf<DB>(
  declare: (connections: Pick<Connections, 's3'>) => ServiceProjections<DB>,
): ServiceEntry {
  const listed = declare({ s3: undefined })
  return {
    schema: listed.schema,
    projections: listed.projections.map(({ projection, stream }) => ({
      name: projection.name,
      stream,
    })),
    rebuild: (connections, name) =>
      rebuildServiceProjection({
        natsUrl: connections.natsUrl,
        postgresUrl: connections.postgresUrl,
        service: declare(connections),
        name,
        // Progress is printed by the command; the log carries only what went wrong.
        log: createLogger({ service: 'argmax-cli', level: 'warn' }),
      }),
  }
}

/** Every service that has projections; the others join as their read models land. */
const servicesWithProjections: Record<string, ServiceEntry> = {
  dataset: entryOf(({ s3 }) =>
    datasetProjections(
      s3
        ? jsonDocumentReader(createS3Client(s3))
        : () => {
            throw new Error(
              'the dataset catalog loads stored profiles from S3: set ARGMAX_S3_* or run a local stack',
            )
          },
    ),
  ),
  registry: entryOf(() => registryProjections),
}

/** ARGMAX_S3_* when set, else the local stack's endpoint. */
function s3SettingsOf(local: { s3: Omit<S3Settings, 'forcePathStyle'> } | undefined) {
  if (process.env['ARGMAX_S3_ACCESS_KEY_ID']) return s3Settings.parse(process.env)
  return local ? { ...local.s3, forcePathStyle: true } : undefined
}

export function registerProjectionsCommands(program: Command): void {
  const projections = program
    .command('projections')
    .description("operate on the services' Postgres projections (read models)")
  projections
    .command('list')
    .description('the projections of every service')
    .action(() => {
      for (const [service, declaration] of Object.entries(servicesWithProjections)) {
        for (const { name, stream } of declaration.projections) {
          console.log(`${service}\t${name}\t(stream ${stream}, schema ${declaration.schema})`)
        }
      }
    })
  projections
    .command('rebuild <service> <name>')
    .description('empty a projection and replay its stream from sequence 1 into it')
    .option('--data-dir <dir>', 'the local stack to use (default: <repo>/.argmax)')
    .option('--nats-url <url>', 'NATS instead of the local stack’s (or ARGMAX_NATS_URL)')
    .option(
      '--postgres-url <url>',
      'PostgreSQL instead of the local stack’s (or ARGMAX_POSTGRES_URL)',
    )
    .action(
      async (
        service: string,
        name: string,
        options: StackCommandOptions & { natsUrl?: string; postgresUrl?: string },
      ) => {
        const declaration = servicesWithProjections[service]
        if (!declaration) {
          const known = Object.keys(servicesWithProjections).join(', ')
          throw new Error(
            `service '${service}' has no projections (services with projections: ${known})`,
          )
        }
        const endpoints = readState(pathsOf(options).stateFile)?.endpoints
        const natsUrl = options.natsUrl ?? process.env['ARGMAX_NATS_URL'] ?? endpoints?.natsUrl
        const postgresUrl =
          options.postgresUrl ?? process.env['ARGMAX_POSTGRES_URL'] ?? endpoints?.postgresUrl
        if (!natsUrl || !postgresUrl) {
          throw new Error(
            "no stack is running: start one with 'argmax up' or pass --nats-url and --postgres-url",
          )
        }
        const report = await declaration.rebuild(
          { natsUrl, postgresUrl, s3: s3SettingsOf(endpoints) },
          name,
        )
        console.log(
          `rebuilt ${service}/${name}: ${report.processed} events replayed up to sequence ${report.position} in ${Math.round(report.durationMs)} ms`,
        )
      },
    )
}
