import { ConcurrencyError, NotFoundError } from '@argmax/errors'
import { JSONCodec, StorageType, type KV, type NatsConnection } from 'nats'
import { apiErrorCode } from '../event-store.ts'
import { ensureStreams, type StreamSpec } from '../stream-spec.ts'
import type { ParkedMessage } from './parked-message.ts'

/**
 * The key-value bucket of parked messages (JetStream stream `KV_PARKED`, subjects
 * `$KV.PARKED.<stream>.<durable>.<sequence>`). A bucket rather than a plain stream because it
 * gives exactly what parking needs: create-if-absent (a message parked twice — by its handler
 * and by the server's advisory — is one entry), compare-and-set for the replay state, one
 * current value per message, and `nats kv ls PARKED` for an operator without our CLI. Its
 * subjects live under `$KV`, outside every context's `<context>.>` by construction.
 */
export const PARKED_BUCKET = 'PARKED'

/**
 * Work for the consumers that own parked messages, as a work-queue stream so each item is
 * taken by exactly one process and comes back if that process dies:
 * - the server's `MAX_DELIVERIES` advisories, captured here because a message whose last
 *   delivery died with its process is given up on later, when no process of its owner may be
 *   listening;
 * - operators' replay requests, `argmax.parked.replay.<stream>.<durable>`. `argmax.` is the
 *   platform's own subject root: no bounded context is called `argmax`.
 * Items older than a week are dropped (advisories of consumers that are not ours land here too).
 */
export const PARKED_REQUESTS_STREAM = 'PARKED_REQUESTS'
export const MAX_DELIVERIES_ADVISORIES = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES'
export const REPLAY_REQUESTS = 'argmax.parked.replay'

const WEEK_MS = 7 * 24 * 3600 * 1000

export function parkedRequestsStreamSpec(replicas = 1): StreamSpec {
  return {
    name: PARKED_REQUESTS_STREAM,
    subjects: [`${MAX_DELIVERIES_ADVISORIES}.>`, `${REPLAY_REQUESTS}.>`],
    retention: 'workqueue',
    replicas,
    maxAge: WEEK_MS,
  }
}

export function maxDeliveriesSubject(stream: string, durable: string): string {
  return `${MAX_DELIVERIES_ADVISORIES}.${stream}.${durable}`
}

export function replayRequestSubject(stream: string, durable: string): string {
  return `${REPLAY_REQUESTS}.${stream}.${durable}`
}

/** What a replay request carries: the entry and the revision that asked for it. */
export interface ReplayRequest {
  id: string
  revision: number
}

export interface ParkedFilter {
  stream?: string | undefined
  durable?: string | undefined
}

export interface StoredParked {
  entry: ParkedMessage
  revision: number
}

export interface ParkingLot {
  /** Stores the entry unless the message is parked already (the first error is kept). */
  park(entry: ParkedMessage): Promise<'parked' | 'already_parked'>
  get(id: string): Promise<StoredParked | undefined>
  list(filter?: ParkedFilter): Promise<ParkedMessage[]>
  /** Replaces the entry if it is still at `revision`; false when it changed or went away. */
  replace(entry: ParkedMessage, revision: number): Promise<boolean>
  remove(id: string): Promise<void>
  /** Marks the entry `replay_requested` and queues the request for its owning consumer. */
  requestReplay(id: string): Promise<ParkedMessage>
}

const codec = JSONCodec<unknown>()

/**
 * Opens the bucket and the request stream, creating them unless `create` is false (the CLI
 * only binds: when no consumer ever parked anything, there is nothing to list). Resolves to
 * undefined when not creating and the bucket does not exist.
 */
export async function openParkingLot(
  nc: NatsConnection,
  options: { replicas?: number; create?: boolean } = {},
): Promise<ParkingLot | undefined> {
  const create = options.create ?? true
  const js = nc.jetstream()
  const jsm = await nc.jetstreamManager()
  if (create) {
    await ensureStreams(jsm, [parkedRequestsStreamSpec(options.replicas)]).catch(
      (error: unknown) => {
        if (apiErrorCode(error) !== SUBJECTS_OVERLAP) throw error
        throw new Error(
          `cannot create stream ${PARKED_REQUESTS_STREAM}: another stream already captures ${MAX_DELIVERIES_ADVISORIES}.> or ${REPLAY_REQUESTS}.> (JetStream refuses overlapping subjects); narrow that stream's subjects so consumers can park what JetStream gives up on`,
          { cause: error },
        )
      },
    )
  } else {
    // Binding does not look for the bucket's stream; the first read would fail instead.
    const exists = await jsm.streams.info(`KV_${PARKED_BUCKET}`).then(
      () => true,
      (error: unknown) => {
        if (apiErrorCode(error) === STREAM_NOT_FOUND) return false
        throw error
      },
    )
    if (!exists) return undefined
  }
  const kv: KV = await js.views.kv(PARKED_BUCKET, {
    history: 1,
    replicas: options.replicas ?? 1,
    storage: StorageType.File,
    bindOnly: !create,
  })

  async function get(id: string): Promise<StoredParked | undefined> {
    const stored = await kv.get(id)
    if (!stored || stored.operation !== 'PUT') return undefined
    return { entry: stored.json<ParkedMessage>(), revision: stored.revision }
  }

  return {
    get,

    async park(entry) {
      try {
        await kv.create(entry.id, codec.encode(entry))
        return 'parked'
      } catch (error) {
        if (apiErrorCode(error) === WRONG_LAST_SEQUENCE) return 'already_parked'
        throw error
      }
    },

    async list(filter = {}) {
      const pattern = filter.stream
        ? `${filter.stream}.${filter.durable ?? '*'}.*`
        : filter.durable
          ? `*.${filter.durable}.*`
          : '>'
      // The bucket stream's subjects, in one request (paged by nats.js), rather than kv.keys():
      // that iterates an ordered consumer until a message says nothing is left, and waits on
      // when none ever does. A deleted entry's subject is still there; `get` skips it.
      const prefix = `$KV.${PARKED_BUCKET}.`
      const info = await jsm.streams.info(`KV_${PARKED_BUCKET}`, {
        subjects_filter: `${prefix}${pattern}`,
      })
      const ids = Object.keys(info.state.subjects ?? {}).map((subject) =>
        subject.slice(prefix.length),
      )
      const entries: ParkedMessage[] = []
      for (const id of ids) {
        const found = await get(id)
        if (found) entries.push(found.entry)
      }
      return entries.sort((a, b) => a.parkedAt.localeCompare(b.parkedAt) || a.sequence - b.sequence)
    },

    async replace(entry, revision) {
      try {
        await kv.update(entry.id, codec.encode(entry), revision)
        return true
      } catch (error) {
        if (apiErrorCode(error) === WRONG_LAST_SEQUENCE) return false
        throw error
      }
    },

    async remove(id) {
      await kv.delete(id)
    },

    async requestReplay(id) {
      const found = await get(id)
      if (!found) throw new NotFoundError('parked message', id)
      const entry: ParkedMessage = { ...found.entry, status: 'replay_requested' }
      let revision: number
      try {
        revision = await kv.update(id, codec.encode(entry), found.revision)
      } catch (error) {
        if (apiErrorCode(error) !== WRONG_LAST_SEQUENCE) throw error
        throw new ConcurrencyError(`${PARKED_BUCKET}.${id}`, found.revision)
      }
      const request: ReplayRequest = { id, revision }
      // The id makes a retried request (same revision) one request.
      await js.publish(replayRequestSubject(entry.stream, entry.durable), codec.encode(request), {
        msgID: `${id}@${revision}`,
      })
      return entry
    },
  }
}

const WRONG_LAST_SEQUENCE = 10071
const STREAM_NOT_FOUND = 10059
const SUBJECTS_OVERLAP = 10065
