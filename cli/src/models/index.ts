export * from './models.commands.ts'
export * from './register.ts'
export * from './render.ts'
