export * from './service.ts'
export * from './streams.ts'
