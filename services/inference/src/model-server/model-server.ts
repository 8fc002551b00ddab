import { endianness } from 'node:os'
import type { Meter } from '@opentelemetry/api'
import { createGrpcAuth, createVerifier } from '@argmax/auth'
import { createServiceApp, listen, readinessChecks } from '@argmax/http'
import { createS3Client } from '@argmax/storage'
import type { Logger } from '@argmax/telemetry'
import type { FastifyInstance } from 'fastify'
import { cachedVerifier } from './api/cached-verifier.ts'
import { startGrpcServer } from './api/grpc-server.ts'
import { v2GrpcHandlers } from './api/v2-grpc.handlers.ts'
import { registerV2Routes } from './api/v2.routes.ts'
import { createArtifactCache, type ArtifactLocation } from './artifacts/index.ts'
import type { BatcherTimer, BatchReport } from './batching/dynamic-batcher.ts'
import type { ModelServerConfig } from './config.ts'
import { createModelServerMetrics } from './metrics.ts'
import { probeExecutionProvider } from './onnx/provider-probe.ts'
import { ModelRepository } from './repository/model-repository.ts'
import { createVersionLoader } from './repository/version-loader.ts'
import { V2Service } from './serving/v2-service.ts'

export interface ModelServerDependencies {
  config: ModelServerConfig
  logger: Logger
  meter: Meter
  /** Prometheus text for /metrics. */
  metrics: () => Promise<string>
  /** Server version reported by ServerMetadata. */
  version: string
  /** Wall clock in ms (token expiry, failed-load backoff). */
  now?: () => number
  /** Monotonic ms (latencies, batch queue delays). */
  monotonicNow?: () => number
  timer?: BatcherTimer
  /** Observes every model run (tests watch batches here). */
  onBatch?: (model: string, version: string, report: BatchReport) => void
  /** Observes every artifact download from S3. */
  onDownload?: (location: ArtifactLocation) => void
}

export interface RunningModelServer {
  /** REST base URL. */
  url: string
  /** gRPC `host:port`. */
  grpcAddress: string
  app: FastifyInstance
  repository: ModelRepository
  /** Stops taking requests (health NOT_SERVING), finishes in-flight ones, unloads everything. */
  stop(): Promise<void>
}

/**
 * The model server: the v2 protocol over gRPC and REST in front of a repository of ONNX model
 * versions loaded from S3, each behind its own dynamic batcher. It holds no state a restart
 * would miss: the gateway loads what it wants served again.
 */
export async function startModelServer(deps: ModelServerDependencies): Promise<RunningModelServer> {
  const { config, logger } = deps
  const settings = config.modelServer
  if (endianness() !== 'LE') {
    throw new Error(
      'the model server reads raw tensors as little-endian and needs a little-endian host',
    )
  }
  await probeExecutionProvider(settings.session)
  const now = deps.now ?? Date.now
  const monotonicNow = deps.monotonicNow ?? (() => performance.now())
  const log = (fields: Record<string, unknown>, message: string) => logger.info(fields, message)

  const s3 = createS3Client(config.s3)
  const cleanups: Array<() => Promise<unknown>> = [async () => s3.destroy()]
  try {
    const artifacts = await createArtifactCache({
      s3,
      ...settings.cache,
      retry: settings.download,
      log: (fields, message) => logger.warn(fields, message),
      ...(deps.onDownload ? { onDownload: deps.onDownload } : {}),
    })
    // The versions gauge reads the repository only when /metrics is scraped.
    const metrics = createModelServerMetrics(deps.meter, () => repository.index())
    const repository = new ModelRepository({
      loadVersion: createVersionLoader({
        artifacts,
        session: settings.session,
        onBatch: (model, version, report) => {
          metrics.batch(model, version, report)
          deps.onBatch?.(model, version, report)
        },
        now: monotonicNow,
        ...(deps.timer ? { timer: deps.timer } : {}),
      }),
      now,
      backoff: settings.failedLoadBackoff,
      log,
    })
    cleanups.unshift(() => repository.close())
    const service = new V2Service({
      repository,
      metrics,
      info: {
        name: settings.name,
        version: deps.version,
        extensions: ['model_repository', 'binary_tensor_data'],
      },
      batchingDefaults: settings.batching,
      now: monotonicNow,
    })

    const verifier = cachedVerifier(createVerifier(config.auth), { now })
    const grpc = await startGrpcServer({
      ...settings.grpc,
      maxMessageBytes: settings.maxMessageBytes,
      implementation: v2GrpcHandlers(
        service,
        createGrpcAuth(verifier, {
          onUnexpectedError: (error, path) =>
            logger.error({ err: error, path }, 'gRPC call failed'),
        }),
      ),
    })
    cleanups.unshift(() => grpc.shutdown())

    const app = await createServiceApp({
      service: 'model-server',
      description: 'The KServe v2 protocol in front of ONNX model versions (REST form)',
      logger,
      verifier,
      metrics: deps.metrics,
      bodyLimit: settings.maxMessageBytes,
      ready: readinessChecks({
        serving: async () => {
          if (!service.ready) throw new Error('shutting down')
        },
      }),
    })
    await registerV2Routes(app, { service, bodyLimit: settings.maxMessageBytes })
    cleanups.unshift(() => app.close())
    const url = await listen(app, config.http)
    logger.info(
      { url, grpc: grpc.address, executionProvider: settings.session.executionProvider },
      'model server listening',
    )

    return {
      url,
      grpcAddress: grpc.address,
      app,
      repository,
      async stop() {
        service.markStopping()
        await runInOrder(cleanups)
      },
    }
  } catch (error) {
    await runInOrder(cleanups).catch(() => undefined)
    throw error
  }
}

/** HTTP, then gRPC (in-flight calls finish), then the versions, then S3. */
async function runInOrder(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) await step()
}
