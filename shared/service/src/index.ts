export * from './shell-config.ts'
export * from './service-shell.ts'
export * from './run-service-process.ts'
