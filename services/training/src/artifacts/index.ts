export * from './verify-artifact.ts'
