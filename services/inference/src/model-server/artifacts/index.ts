export * from './artifact-uri.ts'
export * from './artifact-cache.ts'
export * from './retry.ts'
