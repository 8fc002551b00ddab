import type { StreamSpec } from '@argmax/events'
import { streamSubjects, type StreamNames } from './streams.ts'

/**
 * The dataset context's event stream: kept forever (it is the source of truth; purges remove
 * files and rows, and the events of a purged dataset carry no file contents), file storage,
 * and a two-minute duplicate window for the ids that make retries idempotent.
 */
export function datasetStreamSpec(names: StreamNames, replicas: number): StreamSpec {
  return {
    name: names.stream,
    subjects: streamSubjects(names),
    retention: 'limits',
    replicas,
    storage: 'file',
    duplicateWindow: 2 * 60 * 1000,
  }
}
