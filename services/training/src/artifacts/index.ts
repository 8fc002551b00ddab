export * from './verify-artifact.ts'
export * from './score-holdout.ts'
