export * from './predict.commands.ts'
export * from './read-records.ts'
