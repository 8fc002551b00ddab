import type { Command } from 'commander'
import {
  rebuildServiceProjection,
  type RebuildReport,
  type ServiceProjections,
} from '@argmax/projections'
import { datasetProjections } from '@argmax/dataset-service'
import { feedbackProjections } from '@argmax/feedback-service'
import { createLogger } from '@argmax/telemetry'
import { readState } from '../stack/state.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

interface ServiceEntry {
  schema: string
  projections: Array<{ name: string; stream: string }>
  rebuild(urls: { natsUrl: string; postgresUrl: string }, name: string): Promise<RebuildReport>
}

/** Keeps each service's database type inside its own closure, so one table can hold them all. */
function entryOf<DB>(declaration: ServiceProjections<DB>): ServiceEntry {
  return {
    schema: declaration.schema,
    projections: declaration.projections.map(({ projection, stream }) => ({
      name: projection.name,
      stream,
    })),
    rebuild: (urls, name) =>
      rebuildServiceProjection({
        ...urls,
        service: declaration,
        name,
        // Progress is printed by the command; the log carries only what went wrong.
        log: createLogger({ service: 'argmax-cli', level: 'warn' }),
      }),
  }
}

/** Every service that has projections; the others join as their read models land. */
const servicesWithProjections: Record<string, ServiceEntry> = {
  dataset: entryOf(datasetProjections),
  feedback: entryOf(feedbackProjections),
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
        const report = await declaration.rebuild({ natsUrl, postgresUrl }, name)
        console.log(
          `rebuilt ${service}/${name}: ${report.processed} events replayed up to sequence ${report.position} in ${Math.round(report.durationMs)} ms`,
        )
      },
    )
}
