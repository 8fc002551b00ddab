export * from './pipelines.commands.ts'
export * from './render.ts'
