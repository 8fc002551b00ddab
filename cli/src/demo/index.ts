export * from './demo.commands.ts'
export * from './loop.ts'
