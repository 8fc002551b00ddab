export * from './config.ts'
export * from './service.ts'
export * from './streams.ts'
