import type { NatsConnection } from 'nats'
import { createRegistryClient, type RegistryClient } from '@argmax/registry-service/client'
import { startRegistryService, type RunningRegistryService } from '@argmax/registry-service'
import { createLogger } from '@argmax/telemetry'
import { freshBucket, uniqueName } from '@argmax/testkit'
import { freshSetup, devTokens } from '../../../registry/test/support/harness.ts'

type StreamNames = { stream: string; root: string }

export interface RegistryBeside {
  registry: RunningRegistryService
  /** The registry's own stream, for the pipelines and the gateway that follow it. */
  names: StreamNames
  nc: NatsConnection
  asAdmin: RegistryClient
}

/**
 * A real registry service on a real port, following the training stream `training` (as it
 * does in production: registering a pipeline's candidate goes through training's events), for
 * the pipeline tests that need one beside the training harness.
 */
export async function startRegistryBeside(opts: {
  secret: string
  training: StreamNames
  /** The registry's stream; fresh names otherwise. */
  names?: StreamNames
}): Promise<RegistryBeside> {
  const setup = await freshSetup({
    reuse: {
      names: opts.names ?? { stream: uniqueName('REGISTRY'), root: uniqueName('rg') },
      training: opts.training,
      bucket: (await freshBucket('models')).bucket,
      schema: uniqueName('registry').toLowerCase(),
      secret: opts.secret,
    },
  })
  const registry = await startRegistryService({
    config: setup.config,
    logger: createLogger({ service: 'registry-test', level: 'warn' }),
    nc: setup.nc,
    listen: true,
    trainingStreamPollMs: 100,
    trainingRetryDelaysMs: [200, 500],
  })
  const asAdmin = createRegistryClient({
    baseUrl: registry.url!,
    token: (await devTokens(opts.secret)).admin,
  })
  return { registry, names: setup.names, nc: setup.nc, asAdmin }
}
