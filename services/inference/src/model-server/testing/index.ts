export * from './test-models.ts'
