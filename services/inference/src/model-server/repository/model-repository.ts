import { ArgmaxError, IllegalStateError, NotFoundError, UnavailableError } from '@argmax/errors'
import type { ServedVersion } from '../serving/served-version.ts'
import { sameConfig, type VersionConfig } from './load-config.ts'
import type { VersionLoader } from './version-loader.ts'

/** A version's state, as Triton's repository index spells it. */
export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE'

export interface IndexEntry {
  name: string
  version: string
  state: VersionState
  /** Why a version is UNAVAILABLE (or why a reload of a READY one failed); '' otherwise. */
  reason: string
}

export interface FailedLoadBackoff {
  /** After a failed load, the same config is refused for this long… */
  initialMs: number
  /** …doubling with each further failure, up to this. */
  maxMs: number
}

export interface ModelRepositoryOptions {
  loadVersion: VersionLoader
  /** Milliseconds, for the failed-load backoff. */
  now(): number
  backoff: FailedLoadBackoff
  log?(fields: Record<string, unknown>, message: string): void
}

interface Failure {
  config: VersionConfig
  error: ArgmaxError
  count: number
  retryAt: number
}

interface Entry {
  name: string
  version: string
  state: VersionState
  reason: string
  /** What the version serves now (READY; kept while a reload with a new config runs). */
  served?: ServedVersion
  /** The config being loaded or last tried. */
  config: VersionConfig
  loading?: Promise<void>
  failure?: Failure
  removed: boolean
}

const byVersion = (a: { version: string }, b: { version: string }) =>
  Number(a.version) - Number(b.version)

/**
 * Which versions this model server holds and in what state. A load resolves once the version
 * serves (or rejects with the reason it cannot); identical loads are idempotent and concurrent
 * ones share the attempt. A failed version is UNAVAILABLE with its reason and is not tried again
 * on its own: the next load of the same config is refused until a backoff has passed (1 s,
 * doubling per failure, capped), so a caller that keeps asking cannot turn a broken artifact
 * into a download loop. A load with a new config for a READY version reloads it while the old
 * one keeps serving, and swaps only once the new one is ready.
 */
export class ModelRepository {
  private readonly models = new Map<string, Map<string, Entry>>()

  constructor(private readonly options: ModelRepositoryOptions) {}

  async load(name: string, version: string, config: VersionConfig): Promise<void> {
    let entry = this.entry(name, version)
    while (entry?.loading) {
      await entry.loading.catch(() => undefined)
      entry = this.entry(name, version)
    }
    if (entry?.state === 'READY' && sameConfig(entry.config, config)) {
      // What is asked for is what serves (a failed reload to another config is forgotten).
      entry.failure = undefined
      entry.reason = ''
      return
    }
    const failure = entry?.failure
    if (failure && sameConfig(failure.config, config)) {
      const waitMs = failure.retryAt - this.options.now()
      if (waitMs > 0) throw backoffError(failure, waitMs)
    }
    if (!entry) {
      entry = { name, version, state: 'LOADING', reason: '', config, removed: false }
      let versions = this.models.get(name)
      if (!versions) this.models.set(name, (versions = new Map()))
      versions.set(version, entry)
    } else if (entry.state !== 'READY') {
      entry.state = 'LOADING'
      entry.reason = ''
    }
    const current = entry
    current.config = config
    const attempt = this.attempt(current, config)
    current.loading = attempt.then(
      () => undefined,
      () => undefined,
    )
    try {
      await attempt
    } finally {
      current.loading = undefined
    }
  }

  /** Unloads one version, or every version of the model; unknown ones are already unloaded. */
  async unload(name: string, version?: string): Promise<void> {
    const versions = this.models.get(name)
    if (!versions) return
    const entries = version === undefined ? [...versions.values()] : [versions.get(version)]
    const closing: Promise<void>[] = []
    for (const entry of entries) {
      if (!entry) continue
      entry.removed = true
      versions.delete(entry.version)
      // In-flight requests finish; new ones no longer find the version.
      if (entry.served) closing.push(entry.served.close())
    }
    if (versions.size === 0) this.models.delete(name)
    await Promise.all(closing)
  }

  /** Every version held, sorted by model and version; `readyOnly` keeps the READY ones. */
  index(readyOnly = false): IndexEntry[] {
    const entries: IndexEntry[] = []
    for (const name of [...this.models.keys()].sort()) {
      for (const entry of [...this.models.get(name)!.values()].sort(byVersion)) {
        if (readyOnly && entry.state !== 'READY') continue
        entries.push({ name, version: entry.version, state: entry.state, reason: entry.reason })
      }
    }
    return entries
  }

  /** The versions of a model that serve, ascending. */
  readyVersions(name: string): string[] {
    const versions = this.models.get(name)
    if (!versions) return []
    return [...versions.values()]
      .filter((entry) => entry.state === 'READY')
      .sort(byVersion)
      .map((entry) => entry.version)
  }

  /**
   * The version that serves a request: the one named, or else the highest READY one. Unknown
   * model or version → NotFoundError; loading or failed → UnavailableError with the reason.
   */
  resolve(name: string, version: string): ServedVersion {
    const versions = this.models.get(name)
    if (!versions) throw new NotFoundError('model', name)
    if (version === '') {
      const ready = this.readyVersions(name)
      const highest = ready[ready.length - 1]
      if (highest !== undefined) return versions.get(highest)!.served!
      const states = [...versions.values()]
        .sort(byVersion)
        .map(
          (entry) => `${entry.version} ${entry.state}${entry.reason ? ` (${entry.reason})` : ''}`,
        )
      throw new UnavailableError(`model ${name} has no ready version: ${states.join('; ')}`)
    }
    const entry = versions.get(version)
    if (!entry) throw new NotFoundError('model version', `${name}/${version}`)
    if (entry.served) return entry.served
    throw new UnavailableError(describeUnready(entry))
  }

  /** Whether the version (or, with '', any version) serves; NotFound for unknown ones. */
  ready(name: string, version: string): { ready: boolean; entry?: IndexEntry } {
    const versions = this.models.get(name)
    if (!versions) throw new NotFoundError('model', name)
    if (version === '') return { ready: this.readyVersions(name).length > 0 }
    const entry = versions.get(version)
    if (!entry) throw new NotFoundError('model version', `${name}/${version}`)
    return {
      ready: entry.served !== undefined,
      entry: { name, version, state: entry.state, reason: entry.reason },
    }
  }

  /** Unloads everything (in-flight requests finish). */
  async close(): Promise<void> {
    await Promise.all([...this.models.keys()].map((name) => this.unload(name)))
  }

  private entry(name: string, version: string): Entry | undefined {
    return this.models.get(name)?.get(version)
  }

  private async attempt(entry: Entry, config: VersionConfig): Promise<void> {
    const { name, version } = entry
    let served: ServedVersion
    try {
      served = await this.options.loadVersion(name, version, config)
    } catch (cause) {
      const error =
        cause instanceof ArgmaxError
          ? cause
          : new UnavailableError(`loading failed: ${(cause as Error)?.message ?? String(cause)}`)
      if (entry.removed) throw unloadedWhileLoading(entry)
      const count =
        entry.failure && sameConfig(entry.failure.config, config) ? entry.failure.count + 1 : 1
      const backoffMs = Math.min(
        this.options.backoff.maxMs,
        this.options.backoff.initialMs * 2 ** (count - 1),
      )
      const reported = withMessage(
        error,
        `version ${version} of model ${name} failed to load: ${error.message}`,
      )
      entry.failure = { config, error: reported, count, retryAt: this.options.now() + backoffMs }
      if (entry.served) {
        // A reload failed: the version keeps serving its previous config.
        entry.state = 'READY'
        entry.config = entry.served.config
        entry.reason = `reload failed: ${error.message}`
      } else {
        entry.state = 'UNAVAILABLE'
        entry.reason = error.message
      }
      this.options.log?.(
        { model: name, version, reason: error.message, failures: count },
        'load failed',
      )
      throw reported
    }
    if (entry.removed) {
      await served.close()
      throw unloadedWhileLoading(entry)
    }
    const previous = entry.served
    entry.served = served
    entry.config = config
    entry.state = 'READY'
    entry.reason = ''
    entry.failure = undefined
    this.options.log?.({ model: name, version, batching: served.batching }, 'version ready')
    if (previous) await previous.close()
  }
}

function describeUnready(entry: Entry): string {
  return entry.state === 'LOADING'
    ? `version ${entry.version} of model ${entry.name} is loading`
    : `version ${entry.version} of model ${entry.name} failed to load: ${entry.reason}`
}

function unloadedWhileLoading(entry: Entry): UnavailableError {
  return new UnavailableError(
    `version ${entry.version} of model ${entry.name} was unloaded while it was loading`,
  )
}

/** The same kind of error with another message (and extra details). */
function withMessage(
  error: ArgmaxError,
  message: string,
  details: Record<string, unknown> = {},
): ArgmaxError {
  const Kind = (error instanceof IllegalStateError ? IllegalStateError : UnavailableError) as new (
    message: string,
    details?: Record<string, unknown>,
  ) => ArgmaxError
  return new Kind(message, { ...error.details, ...details })
}

function backoffError(failure: Failure, waitMs: number): ArgmaxError {
  const seconds = Math.ceil(waitMs / 1000)
  return withMessage(
    failure.error,
    `${failure.error.message} (failed ${failure.count} time${failure.count === 1 ? '' : 's'}; ` +
      `the same config is tried again from ${seconds} s on)`,
    { retryAfterSeconds: seconds },
  )
}
