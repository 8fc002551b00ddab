import { createRequire } from 'node:module'
import { metrics as otelMetrics, type Meter } from '@opentelemetry/api'
import {
  createGrpcAuth,
  createServiceCredential,
  createVerifier,
  serviceCredentialSettings,
} from '@argmax/auth'
import type { RunningConsumer } from '@argmax/events'
import {
  startServiceShell,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import { registerBatchRoutes } from './api/batch-predictions.routes.ts'
import { registerGatewayRoutes } from './api/gateway.routes.ts'
import { gatewayGrpcHandlers, type GatewayInfo } from './api/gateway-grpc.handlers.ts'
import type { BatchDeps } from './application/batch-predictions.ts'
import { Forwarder } from './application/forwarder.ts'
import { createDiscovery, isDnsEntry } from './application/model-server-discovery.ts'
import { createGatewayMetrics } from './application/metrics.ts'
import { ModelServerPool } from './application/model-servers.ts'
import { createPredictor, type Predictor } from './application/predict.ts'
import {
  createPredictionLog,
  type PredictionLog,
  type PredictionLogOptions,
} from './application/prediction-log.ts'
import { ServingState } from './application/serving-state.ts'
import { createSignatureStore } from './application/signatures.ts'
import type { InferenceConfig } from './config.ts'
import { emptyCatalog, type RegistryCatalog } from './domain/registry-catalog.ts'
import { inferenceMigrations } from './migrations/index.ts'
import { cachedVerifier } from './model-server/api/cached-verifier.ts'
import { startGrpcServer, type RunningGrpcServer } from './model-server/api/grpc-server.ts'
import { inferenceStreams } from './streams.ts'
import { startAnalyticsSink, type RunningAnalyticsSink } from './workers/analytics-sink.ts'
import { startBatchRunner } from './workers/batch-runner.ts'
import { startRegistryFollower, type RegistryFollower } from './workers/registry-follower.ts'

const { version: packageVersion } = createRequire(import.meta.url)('../package.json') as {
  version: string
}

export interface InferenceServiceOptions extends ServiceStartOptions<InferenceConfig> {
  /** Where the gateway's metrics go (default: the global meter provider of runServiceProcess). */
  meter?: Meter
  /**
   * Makes the prediction log (default `createPredictionLog`). A seam for the gateway benchmark,
   * which measures the gateway with a log that discards records against the real one.
   */
  predictionLog?: (options: PredictionLogOptions) => PredictionLog
}

/** What the gateway's parts share. */
export interface InferenceDeps {
  config: InferenceConfig
  batch: BatchDeps
  catalog: RegistryCatalog
  pool: ModelServerPool
  serving: ServingState
  forwarder: Forwarder
  log: PredictionLog
  predictor: Predictor
  info: GatewayInfo
  follower(): RegistryFollower | undefined
}

export type InferenceWorkers = {
  log: { stop(): Promise<void> }
  registry: RegistryFollower & { stop(): Promise<void> }
  grpc: RunningGrpcServer & { stop(): Promise<void> }
  /** The ClickHouse sink and its retention, unless they run apart (`sink-main.ts`). */
  sink: RunningAnalyticsSink | undefined
  batch: RunningConsumer
}

export type RunningInferenceService = RunningService<unknown, InferenceDeps, InferenceWorkers>

/**
 * The inference service, declared: its streams (INFERENCE_LOG, INFERENCE), the analytics bucket
 * (schema.json reads, archives, batch results), its schema; the gateway — the registry
 * follower and the serving state it drives, the model-server pool, the prediction log, the
 * REST routes and the gRPC server — and, unless run apart (`ARGMAX_INFERENCE_SINK=off`), the
 * ClickHouse sink and its retention schedule.
 */
export function inferenceService(
  config: InferenceConfig,
  options: Pick<InferenceServiceOptions, 'meter' | 'predictionLog'> = {},
): ServiceDefinition<unknown, InferenceDeps, InferenceWorkers, ShellS3> {
  const settings = config.inference
  const names = settings.names
  let follower: RegistryFollower | undefined
  return {
    service: 'inference',
    description:
      'The inference gateway: KServe v2 REST and gRPC, release routing, schema checks, prediction logging',
    streams: inferenceStreams(names),
    readinessStream: names.log.stream,
    migrations: inferenceMigrations,
    schema: settings.schema,
    s3: { settings: config.s3, bucket: settings.bucket },
    readiness: () => ({
      registry: async () => {
        if (!follower?.isCaughtUp())
          throw new Error(`the ${names.registry.stream} stream has not been read yet`)
        return { position: follower.position() }
      },
    }),
    dependencies: (parts) => {
      const catalog = emptyCatalog()
      const credential = createServiceCredential(
        serviceCredentialSettings(config.auth, config.serviceClient),
        { service: 'inference', now: parts.now },
      )
      // The pool tells the serving state about loads; it calls back only after both exist.
      const pool = new ModelServerPool({
        // DNS entries are resolved when the registry worker starts (see there).
        addresses: settings.modelServers.filter((entry) => !isDnsEntry(entry)),
        loads: settings.modelLoads,
        credential,
        probeIntervalMs: settings.probeIntervalMs,
        maxMessageBytes: settings.maxMessageBytes,
        onChange: () => serving.refresh(),
        log: parts.logger,
      })
      const serving: ServingState = new ServingState({
        catalog,
        pool,
        signatures: createSignatureStore(parts.s3),
        placementReplicas: settings.placementReplicas,
        pinnedIdleMs: settings.pinnedIdleMs,
        drainMs: settings.drainMs,
        log: parts.logger,
      })
      const forwarder = new Forwarder(pool, settings.timeoutMs, settings.merge)
      const log = (options.predictionLog ?? createPredictionLog)({
        js: parts.nc.jetstream(),
        names,
        mode: settings.log.mode,
        bufferRecords: settings.log.bufferRecords,
        lingerMs: settings.log.lingerMs,
        log: parts.logger,
      })
      const metrics = createGatewayMetrics(
        options.meter ?? otelMetrics.getMeter('inference'),
        settings.metricsTopUsers,
        {
          logBuffered: () => log.stats().buffered,
          logDropped: () => log.stats().dropped,
          forwardRetries: () => forwarder.stats.retries,
          modelServers: () => pool.health(),
        },
      )
      const predictor = createPredictor({
        serving,
        forwarder,
        log,
        metrics,
        predictionIdSecret: settings.predictionIdSecret,
        now: parts.now,
        monotonic: () => performance.now(),
        shadowMaxInFlight: settings.shadowMaxInFlight,
      })
      const info: GatewayInfo = {
        name: 'argmax-inference-gateway',
        version: packageVersion,
        ready: () => Boolean(follower?.isCaughtUp()) && pool.anyUp(),
      }
      return {
        config,
        batch: {
          store: parts.store,
          names,
          catalog,
          bucket: settings.bucket,
          now: parts.now,
          newId: parts.newId,
        },
        catalog,
        pool,
        serving,
        forwarder,
        log,
        predictor,
        info,
        follower: () => follower,
      }
    },
    api: async (app, deps, parts) => {
      await registerGatewayRoutes(app, {
        predictor: deps.predictor,
        serving: deps.serving,
        info: deps.info,
        bodyLimit: settings.maxMessageBytes,
      })
      registerBatchRoutes(app, { ...deps.batch, s3: parts.s3 })
    },
    workers: {
      // Stopped last: what the gateway answered while stopping still reaches JetStream.
      log: (deps) => ({ stop: () => deps.log.stop() }),
      registry: async (deps, parts) => {
        const discovery = createDiscovery(
          settings.modelServers,
          settings.probeIntervalMs,
          parts.logger,
        )
        deps.pool.setAddresses(await discovery.resolve())
        discovery.start((addresses) => {
          if (deps.pool.setAddresses(addresses)) deps.serving.refresh()
        })
        deps.pool.start()
        // Pins and drained versions expire with time, not only with events.
        const tick = setInterval(() => deps.serving.refresh(), settings.probeIntervalMs)
        tick.unref()
        follower = startRegistryFollower({
          nc: parts.nc,
          names,
          catalog: deps.catalog,
          onCaughtUp: () => deps.serving.allChanged(),
          onModelChanged: (model) => deps.serving.modelChanged(model),
          log: parts.logger,
        })
        const running = follower
        return {
          ...running,
          async stop() {
            clearInterval(tick)
            discovery.stop()
            await running.stop()
            await deps.pool.stop()
          },
        }
      },
      grpc: async (deps, parts) => {
        const verifier = cachedVerifier(createVerifier(config.auth), {
          now: () => parts.now().getTime(),
        })
        const server = await startGrpcServer({
          ...settings.grpc,
          maxMessageBytes: settings.maxMessageBytes,
          implementation: gatewayGrpcHandlers(
            deps.predictor,
            deps.serving,
            deps.info,
            createGrpcAuth(verifier, {
              onUnexpectedError: (error, path) =>
                parts.logger.error({ err: error, path }, 'gRPC call failed'),
            }),
          ),
        })
        parts.logger.info({ grpc: server.address }, 'inference gateway gRPC listening')
        return { ...server, stop: () => server.shutdown() }
      },
      sink: (_deps, parts) =>
        settings.sink.mode === 'embedded'
          ? startAnalyticsSink({
              nc: parts.nc,
              s3: parts.s3,
              clickhouse: config.clickhouse,
              database: config.analytics.database,
              settings,
              now: parts.now,
              logger: parts.logger,
              parkingReplicas: config.nats.streamReplicas,
            })
          : undefined,
      batch: (deps, parts) =>
        startBatchRunner({
          nc: parts.nc,
          store: parts.store,
          names,
          s3: parts.s3,
          serving: deps.serving,
          forwarder: deps.forwarder,
          log: deps.log,
          predictionIdSecret: settings.predictionIdSecret,
          rowsPerCall: settings.batchRows,
          now: parts.now,
          logger: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
    },
  }
}

export function startInferenceService(
  options: InferenceServiceOptions,
): Promise<RunningInferenceService> {
  return startServiceShell(inferenceService(options.config, options), options)
}
