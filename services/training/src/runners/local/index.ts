export * from './local-runner.ts'
export * from './gpus.ts'
export * from './processes.ts'
