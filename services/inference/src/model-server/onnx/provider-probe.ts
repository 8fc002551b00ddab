import protobuf from 'protobufjs'
import { openModel, type SessionSettings } from './onnx-session.ts'

/**
 * The smallest ONNX model (y = Identity(x), one float), encoded by hand from onnx.proto's field
 * numbers so the probe needs no file: ModelProto{ir_version 8, opset_import{version 13},
 * graph{node{Identity x→y}, input x, output y}}.
 */
export function identityModel(): Uint8Array {
  const w = protobuf.Writer.create()
  const valueInfo = (name: string) => {
    // ValueInfoProto{name, type: TypeProto{tensor_type{elem_type FLOAT, shape{dim{dim_value 1}}}}}
    w.uint32(10).string(name)
    w.uint32(18).fork() // type
    w.uint32(10).fork() // tensor_type
    w.uint32(8).int32(1) // elem_type = FLOAT
    w.uint32(18).fork().uint32(10).fork().uint32(8).int64(1).ldelim().ldelim() // shape{dim{1}}
    w.ldelim().ldelim()
  }
  w.uint32(8).int64(8) // ir_version
  w.uint32(66).fork().uint32(16).int64(13).ldelim() // opset_import{version 13}
  w.uint32(58).fork() // graph
  w.uint32(10).fork().uint32(10).string('x').uint32(18).string('y').uint32(34).string('Identity')
  w.ldelim() // node
  w.uint32(18).string('probe') // name
  w.uint32(90).fork()
  valueInfo('x')
  w.ldelim() // input
  w.uint32(98).fork()
  valueInfo('y')
  w.ldelim() // output
  w.ldelim() // graph
  return w.finish()
}

/**
 * Opens a one-node model with the configured execution provider, so a model server configured
 * for CUDA on a machine without a usable GPU (or without ONNX Runtime's CUDA libraries) refuses
 * to start with the reason, instead of failing every load later.
 */
export async function probeExecutionProvider(settings: SessionSettings): Promise<void> {
  try {
    const session = await openModel(identityModel(), settings)
    await session.release()
  } catch (error) {
    throw new Error(
      `ARGMAX_MODEL_SERVER_EXECUTION_PROVIDER=${settings.executionProvider}: ONNX Runtime cannot start ` +
        `the ${settings.executionProvider.toUpperCase()} execution provider: ${(error as Error).message}`,
      { cause: error },
    )
  }
}
