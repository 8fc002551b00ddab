import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js'
import type { ServiceCredential } from '@argmax/auth'
import { createV2Client, type V2Client } from '../model-server/api/v2-client.ts'

/**
 * The model servers the gateway drives (any v2 server with the repository extension: ours or
 * Triton): which is up, which versions each holds, and keeping that equal to what should be
 * served. A reconcile per endpoint — on every probe (`RepositoryIndex`, which is also the
 * health check), after each change of what is wanted, and after a failed call — loads what is
 * wanted and missing (a restarted server comes back empty and gets its versions again) and
 * unloads what is no longer wanted. An endpoint is taken out of rotation (the circuit opens)
 * when a call cannot reach it or three calls in a row failed, and back in when a probe answers.
 */

/** A version to serve and where. */
export interface LoadSpec {
  model: string
  version: number
  /** The repository load's config JSON (artifactUri, sha256, signature, dynamicBatching). */
  config: string
  /** Addresses of the model servers that should hold it (placement). */
  endpoints: readonly string[]
}

export type VersionLoadState =
  | { state: 'loading' }
  | { state: 'ready' }
  | { state: 'failed'; reason: string; retryAt: number; failures: number; config: string }

export interface Endpoint {
  readonly address: string
  up: boolean
  inFlight: number
}

interface EndpointState extends Endpoint {
  client: V2Client
  consecutiveFailures: number
  versions: Map<string, VersionLoadState>
  reconciling: Promise<void> | undefined
  again: boolean
  lastError: string
}

export interface ModelServerPoolOptions {
  addresses: readonly string[]
  /**
   * `managed` (default): the gateway loads and unloads versions (the repository convention of
   * our model server). `external`: something else keeps the servers' repositories (Triton
   * polling an S3 model repository); the gateway only reads which versions are READY.
   */
  loads?: 'managed' | 'external'
  credential: ServiceCredential
  probeIntervalMs: number
  /** Deadline of a probe and of an unload. */
  probeTimeoutMs?: number
  /** Deadline of a load (downloads can take minutes for large artifacts). */
  loadTimeoutMs?: number
  now?: () => number
  /** Called whenever a version became ready or failed, or an endpoint went up or down. */
  onChange?: () => void
  log: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
  }
  /** Largest message to a model server (the gateway's own limit). */
  maxMessageBytes?: number
  createClient?: (address: string) => V2Client
}

const CONSECUTIVE_FAILURES_TO_OPEN = 3
const RETRY_LOAD_MIN_MS = 2_000
const RETRY_LOAD_MAX_MS = 5 * 60_000

export const versionKey = (model: string, version: number) => `${model}\u0000${version}`

interface IndexEntry {
  name: string
  version: string
  state: string
  reason: string
}

export class ModelServerPool {
  private endpoints: EndpointState[]
  private readonly create: (address: string) => V2Client
  private desired = new Map<string, LoadSpec>()
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private rotation = 0
  private readonly now: () => number

  constructor(private readonly options: ModelServerPoolOptions) {
    this.now = options.now ?? Date.now
    const maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024
    this.create =
      options.createClient ??
      ((address: string) =>
        createV2Client(address, {
          channelOptions: {
            'grpc.max_send_message_length': maxBytes,
            'grpc.max_receive_message_length': maxBytes,
            // A server that comes back is found within a second, not after grpc-js's backoff.
            'grpc.initial_reconnect_backoff_ms': 200,
            'grpc.max_reconnect_backoff_ms': 1_000,
            // Not served: its per-call counting and timestamps are work for nothing.
            'grpc.enable_channelz': 0,
          },
        }))
    this.endpoints = options.addresses.map((address) => this.endpoint(address))
  }

  private endpoint(address: string): EndpointState {
    return {
      address,
      client: this.create(address),
      up: false,
      inFlight: 0,
      consecutiveFailures: 0,
      versions: new Map(),
      reconciling: undefined,
      again: false,
      lastError: 'not probed yet',
    }
  }

  /**
   * The model servers changed (a DNS name now resolves to other pods): new ones are probed and
   * get their versions; those gone are dropped once their calls in flight finished.
   */
  setAddresses(addresses: readonly string[]): boolean {
    const wanted = new Set(addresses)
    const kept = this.endpoints.filter((endpoint) => wanted.has(endpoint.address))
    const known = new Set(kept.map((endpoint) => endpoint.address))
    const added = addresses.filter((address) => !known.has(address)).map((a) => this.endpoint(a))
    const removed = this.endpoints.filter((endpoint) => !wanted.has(endpoint.address))
    if (added.length === 0 && removed.length === 0) return false
    this.endpoints = [...kept, ...added]
    for (const endpoint of removed) {
      void (endpoint.reconciling ?? Promise.resolve()).then(() => {
        const close = () =>
          endpoint.inFlight > 0 ? setTimeout(close, 100).unref() : endpoint.client.close()
        close()
      })
    }
    for (const endpoint of added) this.reconcile(endpoint)
    this.options.log.info(
      { added: added.map((e) => e.address), removed: removed.map((e) => e.address) },
      'model servers changed',
    )
    this.options.onChange?.()
    return true
  }

  get addresses(): string[] {
    return this.endpoints.map((endpoint) => endpoint.address)
  }

  start(): void {
    this.reconcileAll()
    this.timer = setInterval(() => this.reconcileAll(), this.options.probeIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await Promise.all(this.endpoints.map((endpoint) => endpoint.reconciling))
    for (const endpoint of this.endpoints) endpoint.client.close()
  }

  /** What should be served, and where; reconciles every endpoint towards it. */
  setDesired(specs: readonly LoadSpec[]): void {
    const next = new Map(specs.map((spec) => [versionKey(spec.model, spec.version), spec]))
    const changed =
      next.size !== this.desired.size ||
      [...next].some(([key, spec]) => {
        const before = this.desired.get(key)
        return (
          !before ||
          before.config !== spec.config ||
          before.endpoints.join() !== spec.endpoints.join()
        )
      })
    this.desired = next
    if (changed) this.reconcileAll()
  }

  /** Endpoints that are up and hold the version ready, least busy first. */
  readyEndpoints(model: string, version: number): Endpoint[] {
    const key = versionKey(model, version)
    const ready = this.endpoints.filter(
      (endpoint) => endpoint.up && endpoint.versions.get(key)?.state === 'ready',
    )
    if (ready.length < 2) return ready
    // Rotate, then prefer the least busy: ties spread round-robin.
    const start = this.rotation++ % ready.length
    const rotated = [...ready.slice(start), ...ready.slice(0, start)]
    return rotated.sort((a, b) => a.inFlight - b.inFlight)
  }

  isReady(model: string, version: number): boolean {
    return this.readyEndpoints(model, version).length > 0
  }

  /**
   * Why a version serves nowhere, for a 503 that says so: every endpoint it is placed on
   * failed to load it (with the last reason), they are all down, or it is still loading.
   */
  whyNotReady(model: string, version: number): string {
    const key = versionKey(model, version)
    const spec = this.desired.get(key)
    if (this.endpoints.length === 0) return 'no model servers are configured (ARGMAX_MODEL_SERVERS)'
    const placed = this.endpoints.filter(
      (e) => this.options.loads === 'external' || !spec || spec.endpoints.includes(e.address),
    )
    const up = placed.filter((endpoint) => endpoint.up)
    if (up.length === 0) {
      return `no model server holding it is reachable (${placed.map((e) => `${e.address}: ${e.lastError}`).join('; ')})`
    }
    const failed = up
      .map((endpoint) => endpoint.versions.get(key))
      .filter(
        (state): state is Extract<VersionLoadState, { state: 'failed' }> =>
          state?.state === 'failed',
      )
    if (failed.length === up.length) return `it cannot be loaded: ${failed[0]!.reason}`
    if (this.options.loads === 'external') return 'no model server reports it READY'
    return 'it is being loaded'
  }

  /** Whether any endpoint answers its probe. */
  anyUp(): boolean {
    return this.endpoints.some((endpoint) => endpoint.up)
  }

  /** Up/down per endpoint, for /v2/health/ready and the metrics. */
  health(): Array<{ address: string; up: boolean; versions: number; lastError: string }> {
    return this.endpoints.map((endpoint) => ({
      address: endpoint.address,
      up: endpoint.up,
      versions: [...endpoint.versions.values()].filter((s) => s.state === 'ready').length,
      lastError: endpoint.up ? '' : endpoint.lastError,
    }))
  }

  /** A ModelInfer (or any) call on an endpoint, with the service credential and a deadline. */
  async call<T>(
    endpoint: Endpoint,
    method: 'ModelInfer',
    request: unknown,
    timeoutMs: number,
  ): Promise<T> {
    const state = endpoint as EndpointState
    const token = await this.options.credential.token()
    state.inFlight++
    try {
      const answer = await state.client.call<T>(method, request as Record<string, unknown>, {
        token,
        timeoutMs,
      })
      state.consecutiveFailures = 0
      return answer
    } finally {
      state.inFlight--
    }
  }

  /**
   * A call to an endpoint failed in a way another endpoint may not (the gateway retries there):
   * an unreachable server opens its circuit at once; a version it no longer holds (NOT_FOUND
   * after a restart, UNAVAILABLE while it unloads) is forgotten there and loaded again.
   */
  reportFailure(endpoint: Endpoint, model: string, version: number, error: ServiceError): void {
    const state = endpoint as EndpointState
    state.consecutiveFailures++
    if (isUnreachable(error) || state.consecutiveFailures >= CONSECUTIVE_FAILURES_TO_OPEN) {
      this.markDown(state, error.details || error.message)
    } else if (error.code === grpcStatus.NOT_FOUND || error.code === grpcStatus.UNAVAILABLE) {
      state.versions.delete(versionKey(model, version))
    }
    this.reconcile(state)
  }

  private reconcileAll(): void {
    if (this.stopped) return
    for (const endpoint of this.endpoints) this.reconcile(endpoint)
  }

  /** One reconcile at a time per endpoint; a request during one runs once more after it. */
  private reconcile(endpoint: EndpointState): void {
    if (this.stopped) return
    if (endpoint.reconciling) {
      endpoint.again = true
      return
    }
    endpoint.reconciling = this.reconcileOnce(endpoint)
      .catch((error: unknown) =>
        this.options.log.warn({ err: error, endpoint: endpoint.address }, 'reconcile failed'),
      )
      .finally(() => {
        endpoint.reconciling = undefined
        if (endpoint.again) {
          endpoint.again = false
          this.reconcile(endpoint)
        }
      })
  }

  private async reconcileOnce(endpoint: EndpointState): Promise<void> {
    const token = await this.options.credential.token()
    let index: IndexEntry[]
    try {
      const answer = await endpoint.client.call<{ models: IndexEntry[] }>(
        'RepositoryIndex',
        { repository_name: '', ready: false },
        { token, timeoutMs: this.options.probeTimeoutMs ?? 5_000 },
      )
      index = answer.models ?? []
    } catch (error) {
      this.markDown(endpoint, (error as ServiceError).details || (error as Error).message)
      return
    }
    if (!endpoint.up) {
      endpoint.up = true
      endpoint.consecutiveFailures = 0
      endpoint.lastError = ''
      this.options.log.info({ endpoint: endpoint.address }, 'model server up')
      this.options.onChange?.()
    }
    const held = new Map<string, IndexEntry>()
    for (const entry of index) {
      const version = Number(entry.version)
      if (Number.isSafeInteger(version)) held.set(versionKey(entry.name, version), entry)
    }
    let changed = false
    if (this.options.loads === 'external') {
      // Someone else loads: what is READY there serves, whatever we would place.
      const ready = new Set(
        [...held].filter(([, entry]) => entry.state === 'READY').map(([key]) => key),
      )
      for (const key of [...endpoint.versions.keys()]) {
        if (!ready.has(key)) {
          endpoint.versions.delete(key)
          changed = true
        }
      }
      for (const key of ready) {
        if (endpoint.versions.get(key)?.state !== 'ready') {
          endpoint.versions.set(key, { state: 'ready' })
          changed = true
        }
      }
      if (changed) this.options.onChange?.()
      return
    }
    for (const [key, spec] of this.desired) {
      if (!spec.endpoints.includes(endpoint.address)) continue
      const known = endpoint.versions.get(key)
      if (held.get(key)?.state === 'READY') {
        if (known?.state !== 'ready' && known?.state !== 'loading') {
          endpoint.versions.set(key, { state: 'ready' })
          changed = true
        }
        continue
      }
      if (known?.state === 'loading') continue
      if (known?.state === 'failed' && known.config === spec.config && this.now() < known.retryAt) {
        continue
      }
      if (known?.state === 'ready') changed = true // it was lost (a restart): load it again
      void this.load(endpoint, key, spec, known?.state === 'failed' ? known.failures : 0)
    }
    for (const [key, entry] of held) {
      const spec = this.desired.get(key)
      if (spec?.endpoints.includes(endpoint.address)) continue
      endpoint.versions.delete(key)
      await endpoint.client
        .call(
          'RepositoryModelUnload',
          { model_name: entry.name, parameters: { version: { string_param: entry.version } } },
          { token, timeoutMs: this.options.probeTimeoutMs ?? 5_000 },
        )
        .then(
          () =>
            this.options.log.info(
              { endpoint: endpoint.address, model: entry.name, version: entry.version },
              'version unloaded',
            ),
          (error: ServiceError) =>
            this.options.log.warn(
              { endpoint: endpoint.address, err: error.details },
              'unload failed',
            ),
        )
    }
    for (const key of endpoint.versions.keys()) {
      if (!this.desired.get(key)?.endpoints.includes(endpoint.address))
        endpoint.versions.delete(key)
    }
    if (changed) this.options.onChange?.()
  }

  private async load(endpoint: EndpointState, key: string, spec: LoadSpec, failures: number) {
    endpoint.versions.set(key, { state: 'loading' })
    try {
      const token = await this.options.credential.token()
      await endpoint.client.call(
        'RepositoryModelLoad',
        {
          repository_name: '',
          model_name: spec.model,
          parameters: {
            version: { string_param: String(spec.version) },
            config: { string_param: spec.config },
          },
        },
        { token, timeoutMs: this.options.loadTimeoutMs ?? 10 * 60_000 },
      )
      if (endpoint.versions.get(key)?.state !== 'loading') return // unwanted meanwhile
      endpoint.versions.set(key, { state: 'ready' })
      this.options.log.info(
        { endpoint: endpoint.address, model: spec.model, version: spec.version },
        'version loaded',
      )
    } catch (error) {
      const failure = error as ServiceError
      if (isUnreachable(failure)) {
        endpoint.versions.delete(key)
        this.markDown(endpoint, failure.details || failure.message)
        return
      }
      const delay = Math.min(RETRY_LOAD_MAX_MS, RETRY_LOAD_MIN_MS * 2 ** failures)
      endpoint.versions.set(key, {
        state: 'failed',
        reason: failure.details || failure.message,
        retryAt: this.now() + delay,
        failures: failures + 1,
        config: spec.config,
      })
      this.options.log.warn(
        {
          endpoint: endpoint.address,
          model: spec.model,
          version: spec.version,
          reason: failure.details || failure.message,
          retryInMs: delay,
        },
        'version failed to load',
      )
    }
    this.options.onChange?.()
  }

  private markDown(endpoint: EndpointState, reason: string): void {
    endpoint.lastError = reason
    if (!endpoint.up) return
    endpoint.up = false
    this.options.log.warn({ endpoint: endpoint.address, reason }, 'model server down')
    this.options.onChange?.()
  }
}

/** The call never reached a server: nothing listens, or the connection broke. */
export function isUnreachable(error: ServiceError): boolean {
  const connectionCodes: number[] = [
    grpcStatus.UNAVAILABLE,
    grpcStatus.INTERNAL,
    grpcStatus.CANCELLED,
  ]
  if (!connectionCodes.includes(error.code)) return false
  // grpc-js words a dead peer several ways: refused before the call, reset or dropped during it.
  return /No connection established|Connection dropped|ECONNREFUSED|ECONNRESET|Received RST_STREAM|Socket closed|Failed to connect|connection closed/i.test(
    `${error.details ?? ''} ${error.message ?? ''}`,
  )
}
