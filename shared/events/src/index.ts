export * from './envelope.ts'
export * from './codec.ts'
