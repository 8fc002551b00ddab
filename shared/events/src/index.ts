export * from './envelope.ts'
export * from './codec.ts'
export * from './storable-text.ts'
export * from './ids.ts'
export * from './stream-spec.ts'
export * from './event-store.ts'
export * from './command-handler.ts'
export * from './decider-spec.ts'
export * from './upcasting.ts'
export * from './trace-context.ts'
export type * from './consumer/consumer.types.ts'
export { startConsumer } from './consumer/consumer.ts'
export { startBatchConsumer } from './consumer/batch-consumer.ts'
export { ClaimLapsedError, ConsumerStoppingError } from './consumer/claim.ts'
export { whenStreamExists, type DeferredConsumer } from './consumer/when-stream-exists.ts'
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
  DEFAULT_RETRY_DELAYS_MS,
  silentConsumerLogger,
} from './consumer/consumer-settings.ts'
export * from './parking/parked-message.ts'
export {
  MAX_DELIVERIES_ADVISORIES,
  PARKED_BUCKET,
  PARKED_REQUESTS_STREAM,
  REPLAY_REQUESTS,
  type ParkedFilter,
} from './parking/parking-lot.ts'
export * from './parking/parked-admin.ts'
export * from './idempotency.ts'
