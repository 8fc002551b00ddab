export * from './onnx-session.ts'
export * from './provider-probe.ts'
