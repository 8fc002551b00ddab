import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig,
} from 'nats'

/** A stream as a service declares it; `ensureStreams` makes the server match it. */
export interface StreamSpec {
  name: string
  subjects: string[]
  retention: 'limits' | 'workqueue' | 'interest'
  /** R3 in production, 1 on the embedded stack. */
  replicas?: number
  storage?: 'file' | 'memory'
  /** How long JetStream remembers message ids for de-duplication (ms). */
  duplicateWindow?: number
  /** Drop messages older than this (ms); unset keeps them forever. */
  maxAge?: number
  maxMessages?: number
  maxBytes?: number
}

const retentionPolicies = {
  limits: RetentionPolicy.Limits,
  workqueue: RetentionPolicy.Workqueue,
  interest: RetentionPolicy.Interest,
} as const

function toStreamConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  // JetStream refuses a duplicate window longer than the messages live.
  const duplicateWindow = Math.min(spec.duplicateWindow ?? 2 * 60 * 1000, spec.maxAge ?? Infinity)
  return {
    name: spec.name,
    subjects: spec.subjects,
    retention: retentionPolicies[spec.retention],
    storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: spec.replicas ?? 1,
    duplicate_window: nanos(duplicateWindow),
    max_age: spec.maxAge ? nanos(spec.maxAge) : 0,
    max_msgs: spec.maxMessages ?? -1,
    max_bytes: spec.maxBytes ?? -1,
    discard: DiscardPolicy.Old,
  }
}

/**
 * Creates each stream, or updates it when its spec changed; running it again is a no-op.
 * Called at every process start, so declarations in code are the truth about streams.
 */
export async function ensureStreams(jsm: JetStreamManager, specs: StreamSpec[]): Promise<void> {
  for (const spec of specs) {
    const wanted = toStreamConfig(spec)
    const existing = await jsm.streams.info(spec.name).catch((error: unknown) => {
      if (isStreamNotFound(error)) return undefined
      throw error
    })
    if (!existing) {
      await jsm.streams.add(wanted)
      continue
    }
    const { storage: _storage, retention, ...updatable } = wanted
    if (retention !== existing.config.retention) {
      throw new Error(
        `stream ${spec.name} has retention ${existing.config.retention}; JetStream cannot change it to ${retention}`,
      )
    }
    if (differs(updatable, existing.config as unknown as Record<string, unknown>)) {
      await jsm.streams.update(spec.name, updatable)
    }
  }
}

function differs(wanted: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(wanted).some(
    ([key, value]) => JSON.stringify(value) !== JSON.stringify(actual[key]),
  )
}

function isStreamNotFound(error: unknown): boolean {
  return (error as { api_error?: { err_code?: number } }).api_error?.err_code === 10059
}
