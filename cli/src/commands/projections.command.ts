import type { Command } from 'commander'
import { readState } from '../stack/state.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

/**
 * The services' projection declarations pull in most of each service (about 1,500 modules,
 * seconds of start-up): loaded only when a projections command runs, so every other
 * command (`argmax status`, `down`, `up`…) starts without them.
 */
const loadServices = () => import('./service-projections.ts')

export function registerProjectionsCommands(program: Command): void {
  const projections = program
    .command('projections')
    .description("operate on the services' Postgres projections (read models)")
  projections
    .command('list')
    .description('the projections of every service')
    .action(async () => {
      const { servicesWithProjections } = await loadServices()
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
        const { servicesWithProjections, s3SettingsOf } = await loadServices()
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
