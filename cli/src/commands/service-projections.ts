import {
  rebuildServiceProjection,
  type RebuildReport,
  type ServiceProjections,
} from '@argmax/projections'
import { s3Settings, type S3Settings } from '@argmax/config'
import { datasetProjections, jsonDocumentReader } from '@argmax/dataset-service'
import { createS3Client } from '@argmax/storage'
// The projections entries only: the services' indexes would load ONNX Runtime, the Kubernetes
// client and the runners into the CLI.
import { registryProjections } from '@argmax/registry-service/projections'
import { trainingProjections } from '@argmax/training-service/projections'
import { feedbackProjections } from '@argmax/feedback-service'
import { createLogger } from '@argmax/telemetry'

export interface Connections {
  natsUrl: string
  postgresUrl: string
  /** For projections that read objects (the dataset catalog's stored profiles). */
  s3: S3Settings | undefined
}

export interface ServiceEntry {
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

/**
 * Every service that has projections. Inference has none: it holds the registry's releases in
 * memory and reads its batch predictions from their events.
 */
export const servicesWithProjections: Record<string, ServiceEntry> = {
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
  training: entryOf(() => trainingProjections),
  registry: entryOf(() => registryProjections),
  feedback: entryOf(() => feedbackProjections),
}

/** ARGMAX_S3_* when set, else the local stack's endpoint. */
export function s3SettingsOf(local: { s3: Omit<S3Settings, 'forcePathStyle'> } | undefined) {
  if (process.env['ARGMAX_S3_ACCESS_KEY_ID']) return s3Settings.parse(process.env)
  return local ? { ...local.s3, forcePathStyle: true } : undefined
}
