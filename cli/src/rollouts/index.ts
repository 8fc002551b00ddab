export * from './rollouts.commands.ts'
export * from './render.ts'
