export * from './follow.ts'
export * from './render.ts'
export * from './runs.commands.ts'
