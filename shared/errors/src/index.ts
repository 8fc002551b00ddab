export * from './errors.ts'
export * from './problem.ts'
export * from './grpc-status.ts'
export * from './infrastructure.ts'
