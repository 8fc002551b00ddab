import type { ModelSignature, Release } from '@argmax/contracts'
import { NotFoundError, UnavailableError, ValidationError } from '@argmax/errors'
import { placeVersion } from '../domain/placement.ts'
import {
  releaseVersions,
  warmVersion,
  type CatalogModel,
  type RegistryCatalog,
} from '../domain/registry-catalog.ts'
import { chooseVersion, type Variant } from '../domain/traffic-split.ts'
import type { LoadSpec, ModelServerPool } from './model-servers.ts'
import type { SignatureStore } from './signatures.ts'

/** Where one request goes. */
export interface Target {
  model: string
  version: number
  variant: Exclude<Variant, 'shadow'>
  /** The REGISTRY sequence of the release that routed it; null when the path pinned a version. */
  releaseSequence: number | null
  signature: ModelSignature
  /** The shadow version that gets a copy, when the release has one and it serves. */
  shadow?: { version: number; signature: ModelSignature }
}

export interface ServingStateOptions {
  catalog: RegistryCatalog
  pool: ModelServerPool
  signatures: SignatureStore
  placementReplicas: number
  /** A pinned version nobody asked for in this long is unloaded. */
  pinnedIdleMs: number
  /** Versions a release stopped serving stay loaded this long for requests already routed. */
  drainMs?: number
  /** Dynamic batching asked of model servers for every version (their defaults otherwise). */
  dynamicBatching?: { maxBatchSize?: number; maxQueueDelayMicroseconds?: number }
  now?: () => number
  log: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
  }
}

interface Served {
  release: Release | null
  sequence: number | null
}

const SIGNATURE_RETRY_MS = 10_000

/**
 * What each model serves right now, and the switch from one release to the next without a
 * failed request: a new release is *pending* until its stable and canary versions are loaded
 * on a model server, while traffic stays on the *active* one; then it becomes active, and the
 * versions it no longer uses stay loaded a little longer (`drainMs`) for requests already on
 * their way. A pending release whose version cannot be loaded stays pending (the old one keeps
 * serving) and says why. Requests that pin a version load it on demand; it is unloaded once
 * nobody pinned it for `pinnedIdleMs`. A model's `challenger` is loaded before any release
 * routes to it (`warmVersion`), so that a rollout's canary starts warm.
 */
export class ServingState {
  private readonly active = new Map<string, Served>()
  private readonly pending = new Map<string, Served>()
  private readonly signatures = new Map<string, ModelSignature>()
  private readonly signatureFailures = new Map<string, { reason: string; retryAt: number }>()
  private readonly signatureLoads = new Set<string>()
  private readonly pinned = new Map<string, number>()
  private readonly draining = new Map<string, number>()
  private readonly now: () => number

  constructor(private readonly options: ServingStateOptions) {
    this.now = options.now ?? Date.now
  }

  /** A model's release changed in the catalog (or it was created, deleted, got a version). */
  modelChanged(name: string): void {
    const model = this.options.catalog.models.get(name)
    if (!model || model.deleted) {
      this.pending.delete(name)
      this.active.delete(name)
    } else {
      const current = this.pending.get(name) ?? this.active.get(name)
      if (current?.sequence !== model.releaseSequence) {
        this.pending.set(name, { release: model.release, sequence: model.releaseSequence })
      }
    }
    this.refresh()
  }

  /** Every model at once (after the catalog caught up at start). */
  allChanged(): void {
    for (const name of this.options.catalog.models.keys()) this.modelChanged(name)
  }

  /**
   * Recomputes what should be loaded where, promotes pending releases that are ready and
   * expires idle pins and drained versions. Cheap; called on every change and every probe.
   */
  refresh(): void {
    const now = this.now()
    for (const [key, until] of this.draining) if (until <= now) this.draining.delete(key)
    for (const [key, last] of this.pinned) {
      if (now - last >= this.options.pinnedIdleMs) this.pinned.delete(key)
    }
    for (const [name, next] of this.pending) {
      if (next.release === null || this.releaseReady(name, next.release)) this.promote(name, next)
    }
    this.options.pool.setDesired(this.desiredSpecs())
  }

  /** The active release of a model and the one waiting to replace it, for status answers. */
  releases(name: string): { active: Served | undefined; pending: Served | undefined } {
    return { active: this.active.get(name), pending: this.pending.get(name) }
  }

  /** Where a request goes: the pinned version, or by the active release's split. */
  resolve(name: string, pinned: string | undefined, requestKey: string): Target {
    const model = this.modelOrThrow(name)
    if (pinned !== undefined && pinned !== '') return this.resolvePinned(model, pinned)
    const served = this.active.get(name)
    if (!served?.release) {
      const pending = this.pending.get(name)?.release
      throw new UnavailableError(this.whyNotReady(name, undefined)!, {
        retryAfterSeconds: pending ? 1 : 5,
      })
    }
    const { version, variant } = chooseVersion(served.release, requestKey)
    const signature = this.signatures.get(key(name, version))!
    const target: Target = {
      model: name,
      version,
      variant,
      releaseSequence: served.sequence,
      signature,
    }
    const shadow = served.release.shadow
    if (shadow !== undefined && shadow !== version && this.options.pool.isReady(name, shadow)) {
      const shadowSignature = this.signatures.get(key(name, shadow))
      if (shadowSignature) target.shadow = { version: shadow, signature: shadowSignature }
    }
    return target
  }

  /**
   * What ModelMetadata answers: the versions the release serves and the signature of the named
   * version, or of the release's stable version (read from S3 if not yet known).
   */
  async describe(
    name: string,
    pinned: string | undefined,
  ): Promise<{ version: number; versions: number[]; signature: ModelSignature }> {
    const model = this.modelOrThrow(name)
    const served = this.active.get(name) ?? this.pending.get(name)
    let version: number
    if (pinned !== undefined && pinned !== '') {
      version = this.parseVersion(model, pinned)
    } else if (served?.release) {
      version = served.release.stable
    } else {
      throw new UnavailableError(`model ${name} has no release`, { retryAfterSeconds: 5 })
    }
    const entry = model.versions.get(version)
    if (!entry) throw new NotFoundError('version', `${version} of model ${name}`)
    const signature =
      this.signatures.get(key(name, version)) ??
      (await this.options.signatures.get(entry.signature))
    const versions = releaseVersions(this.active.get(name)?.release ?? null).filter(
      (v) => v !== this.active.get(name)?.release?.shadow,
    )
    return { version, versions, signature }
  }

  /** Whether a version (or, without one, the model's release) serves now. */
  isServing(name: string, pinned: string | undefined): boolean {
    return this.whyNotReady(name, pinned) === undefined
  }

  /** Why a version (or, without one, the model's release) does not serve now; undefined if it does. */
  whyNotReady(name: string, pinned: string | undefined): string | undefined {
    const model = this.modelOrThrow(name)
    if (pinned !== undefined && pinned !== '') {
      const version = this.parseVersion(model, pinned)
      if (this.signatures.has(key(name, version)) && this.options.pool.isReady(name, version)) {
        return undefined
      }
      return `version ${version} of model ${name} is not serving: ${this.whyNotServing(name, version)}`
    }
    if (this.active.get(name)?.release) return undefined
    const pending = this.pending.get(name)?.release
    if (!pending) return `model ${name} has no release`
    const waiting = [pending.stable, pending.canary?.version]
      .filter((v): v is number => v !== undefined)
      .map((v) => `version ${v}: ${this.whyNotServing(name, v)}`)
    return `model ${name} is not serving yet (${waiting.join('; ')})`
  }

  /** Every model with a release and the state of each of its versions (the warm one too). */
  index(): Array<{
    name: string
    version: number
    state: 'READY' | 'LOADING' | 'UNAVAILABLE'
    reason: string
  }> {
    const entries: Array<{
      name: string
      version: number
      state: 'READY' | 'LOADING' | 'UNAVAILABLE'
      reason: string
    }> = []
    const warm = (name: string) => {
      const model = this.options.catalog.models.get(name)
      const version = model ? warmVersion(model) : undefined
      return version === undefined ? [] : [version]
    }
    for (const name of new Set([...this.active.keys(), ...this.pending.keys()])) {
      const versions = new Set([
        ...releaseVersions(this.active.get(name)?.release ?? null),
        ...releaseVersions(this.pending.get(name)?.release ?? null),
        ...warm(name),
      ])
      for (const version of [...versions].sort((a, b) => a - b)) {
        const ready =
          this.signatures.has(key(name, version)) && this.options.pool.isReady(name, version)
        const reason = ready ? '' : this.whyNotServing(name, version)
        entries.push({
          name,
          version,
          state: ready
            ? 'READY'
            : reason.startsWith('it cannot') || reason.startsWith('its signature cannot')
              ? 'UNAVAILABLE'
              : 'LOADING',
          reason,
        })
      }
    }
    return entries
  }

  /** The signature of a served version, or why there is none. */
  signatureOf(name: string, version: number): ModelSignature | undefined {
    return this.signatures.get(key(name, version))
  }

  private parseVersion(model: CatalogModel, pinned: string): number {
    if (!/^[1-9][0-9]{0,9}$/.test(pinned)) {
      throw ValidationError.field(
        'version',
        `must be a positive integer, got ${JSON.stringify(pinned)}`,
      )
    }
    const version = Number(pinned)
    if (!model.versions.has(version)) {
      throw new NotFoundError('version', `${version} of model ${model.name}`)
    }
    return version
  }

  private resolvePinned(model: CatalogModel, pinned: string): Target {
    const version = this.parseVersion(model, pinned)
    const k = key(model.name, version)
    const wasPinned = this.pinned.has(k)
    this.pinned.set(k, this.now())
    if (!wasPinned) this.refresh()
    const signature = this.signatures.get(k)
    if (!signature || !this.options.pool.isReady(model.name, version)) {
      throw new UnavailableError(
        `version ${version} of model ${model.name} is not serving: ${this.whyNotServing(model.name, version)}`,
        { retryAfterSeconds: 1 },
      )
    }
    return { model: model.name, version, variant: 'pinned', releaseSequence: null, signature }
  }

  private modelOrThrow(name: string): CatalogModel {
    const model = this.options.catalog.models.get(name)
    if (!model || model.deleted) throw new NotFoundError('model', name)
    return model
  }

  private whyNotServing(name: string, version: number): string {
    const failure = this.signatureFailures.get(key(name, version))
    if (failure) return `its signature cannot be read: ${failure.reason}`
    if (!this.signatures.has(key(name, version))) return 'its signature is being read'
    return this.options.pool.whyNotReady(name, version)
  }

  private releaseReady(name: string, release: Release): boolean {
    const needed = [release.stable, ...(release.canary ? [release.canary.version] : [])]
    return needed.every(
      (version) =>
        this.signatures.has(key(name, version)) && this.options.pool.isReady(name, version),
    )
  }

  private promote(name: string, next: Served): void {
    const before = this.active.get(name)
    this.pending.delete(name)
    this.active.set(name, next)
    const kept = new Set(releaseVersions(next.release))
    for (const version of releaseVersions(before?.release ?? null)) {
      if (!kept.has(version))
        this.draining.set(key(name, version), this.now() + (this.options.drainMs ?? 30_000))
    }
    this.options.log.info(
      { model: name, release: next.release, releaseSequence: next.sequence },
      'release serving',
    )
  }

  private desiredSpecs(): LoadSpec[] {
    const wanted = new Map<string, { model: string; version: number }>()
    const want = (model: string, version: number) =>
      wanted.set(key(model, version), { model, version })
    for (const [name, served] of this.active) {
      for (const version of releaseVersions(served.release)) want(name, version)
    }
    for (const [name, served] of this.pending) {
      for (const version of releaseVersions(served.release)) want(name, version)
    }
    for (const model of this.options.catalog.models.values()) {
      const warm = warmVersion(model)
      if (warm !== undefined) want(model.name, warm)
    }
    for (const k of [...this.pinned.keys(), ...this.draining.keys()]) {
      const [model, version] = k.split('\u0000') as [string, string]
      want(model, Number(version))
    }
    const specs: LoadSpec[] = []
    for (const [k, { model, version }] of wanted) {
      const entry = this.options.catalog.models.get(model)?.versions.get(version)
      if (!entry) continue
      const signature = this.signatures.get(k)
      if (!signature) {
        this.loadSignature(model, version)
        continue
      }
      specs.push({
        model,
        version,
        config: JSON.stringify({
          artifactUri: entry.artifact.uri,
          sha256: entry.artifact.sha256,
          signature,
          ...(this.options.dynamicBatching
            ? { dynamicBatching: this.options.dynamicBatching }
            : {}),
        }),
        endpoints: placeVersion(
          this.options.pool.addresses,
          model,
          version,
          this.options.placementReplicas,
        ),
      })
    }
    return specs
  }

  private loadSignature(model: string, version: number): void {
    const k = key(model, version)
    if (this.signatureLoads.has(k)) return
    const failure = this.signatureFailures.get(k)
    if (failure && this.now() < failure.retryAt) return
    const entry = this.options.catalog.models.get(model)?.versions.get(version)
    if (!entry) return
    this.signatureLoads.add(k)
    this.options.signatures.get(entry.signature).then(
      (signature) => {
        this.signatureLoads.delete(k)
        this.signatureFailures.delete(k)
        this.signatures.set(k, signature)
        this.refresh()
      },
      (error: Error) => {
        this.signatureLoads.delete(k)
        this.signatureFailures.set(k, {
          reason: error.message,
          retryAt: this.now() + SIGNATURE_RETRY_MS,
        })
        this.options.log.warn({ model, version, err: error }, 'version signature cannot be read')
      },
    )
  }
}

const key = (model: string, version: number) => `${model}\u0000${version}`
