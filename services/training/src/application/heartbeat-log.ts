import type { EventStore } from '@argmax/events'
import { decodeRecorded } from '@argmax/events'
import type { JetStreamManager } from 'nats'
import { HEARTBEAT_TYPE, type HeartbeatRecord } from '../projections/heartbeats.projection.ts'
import { heartbeatStream, heartbeatSubject, type TrainingStreamNames } from '../streams.ts'

/**
 * Where heartbeats go: one acknowledged publish each to the heartbeat stream (subject per
 * run), which keeps them for the metrics history (its projection) and answers "the newest for
 * this run" with one direct read — what the liveness check asks. Nothing in memory, so any
 * replica may receive a trainer's heartbeats and any other may be the one checking them.
 */
export interface HeartbeatLog {
  record(beat: HeartbeatRecord): Promise<void>
  latest(runId: string): Promise<HeartbeatRecord | undefined>
}

const NO_MESSAGE_FOUND = 10037

export function createHeartbeatLog(
  store: EventStore,
  jsm: JetStreamManager,
  names: TrainingStreamNames,
): HeartbeatLog {
  const stream = heartbeatStream(names)
  return {
    async record(beat) {
      await store.append(
        heartbeatSubject(names, beat.runId),
        [{ type: HEARTBEAT_TYPE, data: beat }],
        {
          expectedLastSubjectSequence: 'any',
          meta: { actor: `run:${beat.runId}` },
        },
      )
    },
    async latest(runId) {
      try {
        const message = await jsm.streams.getMessage(stream, {
          last_by_subj: heartbeatSubject(names, runId),
        })
        return decodeRecorded(message.data, message.seq).data as HeartbeatRecord
      } catch (error) {
        const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code
        if (code === NO_MESSAGE_FOUND) return undefined
        throw error
      }
    },
  }
}
