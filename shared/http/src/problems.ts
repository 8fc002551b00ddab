// The problem+json answers alone, for a process that is not a service (the local edge) and
// should not load the service shell (OpenAPI, auth) to send them.
export * from './send-problem.ts'
export * from './early-refusals.ts'
