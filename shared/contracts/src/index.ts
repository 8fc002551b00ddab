export * from './model-signature.ts'
