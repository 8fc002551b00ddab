export * from './service.ts'
export * from './streams.ts'
export * from './config.ts'
export { feedbackProjections } from './projections/feedback.projections.ts'
