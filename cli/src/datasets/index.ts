export * from './datasets.commands.ts'
export * from './upload.ts'
export * from './download.ts'
