import {
  DATASET_EVENTS,
  upcastVersionValidatedV1,
  type DatasetVersionValidatedDataV1,
} from '@argmax/contracts'
import { createUpcasters } from '@argmax/events'

/**
 * Old shapes of the dataset context's events, walked up to the current ones on read (events
 * are never rewritten). Every reader of the stream uses it: the event store, the catalog
 * projection, the validator.
 */
export const datasetUpcast = createUpcasters({
  // 1 → 2: schema and profile inline → a JsonDocument each (inline, as they were).
  [DATASET_EVENTS.versionValidated]: {
    1: (data) => upcastVersionValidatedV1(data as DatasetVersionValidatedDataV1),
  },
})
