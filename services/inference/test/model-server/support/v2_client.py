"""A stock v2 gRPC client, as tritonclient talks: stubs generated from the public
grpc_predict_v2.proto, inputs sent as raw_input_contents (little-endian; BYTES elements each
after a 4-byte little-endian length), outputs read from raw_output_contents.

Usage: python3 v2_client.py STUBS_DIR ADDRESS TOKEN [gzip|deflate] < request.json > response.json
(the optional last argument compresses every message the channel sends, as grpcio's
`compression` channel setting and tritonclient.grpc's `compression_algorithm` do)
request.json: {"model_name", "model_version", "inputs": [{"name", "datatype", "shape", "data"}]}
(null in FP32 data is NaN). The response lists each output's name, datatype, shape and data.
"""
import json
import math
import struct
import sys

from v2_bytes import deserialize_bytes, serialize_bytes

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import grpc_predict_v2_pb2 as pb  # noqa: E402
import grpc_predict_v2_pb2_grpc as pb_grpc  # noqa: E402


def serialize(datatype, data):
    if datatype == "FP32":
        return struct.pack(f"<{len(data)}f", *[math.nan if v is None else v for v in data])
    if datatype == "BYTES":
        return serialize_bytes([value.encode("utf-8") for value in data])
    raise ValueError(f"unsupported datatype {datatype}")


def deserialize(datatype, raw):
    if datatype == "FP32":
        return [None if math.isnan(v) else v for v in struct.unpack(f"<{len(raw) // 4}f", raw)]
    if datatype == "BYTES":
        return deserialize_bytes(raw)
    raise ValueError(f"unsupported datatype {datatype}")


def parameter(value):
    choice = value.WhichOneof("parameter_choice")
    return getattr(value, choice) if choice else None


def main():
    stubs, address, token = sys.argv[1:4]
    compression = {
        "": grpc.Compression.NoCompression,
        "gzip": grpc.Compression.Gzip,
        "deflate": grpc.Compression.Deflate,
    }[sys.argv[4] if len(sys.argv) > 4 else ""]
    spec = json.load(sys.stdin)
    request = pb.ModelInferRequest(
        model_name=spec["model_name"], model_version=spec["model_version"], id=spec.get("id", "")
    )
    for tensor in spec["inputs"]:
        request.inputs.add(name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"])
        request.raw_input_contents.append(serialize(tensor["datatype"], tensor["data"]))
    with grpc.insecure_channel(address, compression=compression) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        response = stub.ModelInfer(request, metadata=(("authorization", f"Bearer {token}"),), timeout=30)
    answer = {
        "model_name": response.model_name,
        "model_version": response.model_version,
        "outputs": [
            {
                "name": output.name,
                "datatype": output.datatype,
                "shape": list(output.shape),
                "data": deserialize(output.datatype, response.raw_output_contents[i]),
            }
            for i, output in enumerate(response.outputs)
        ],
    }
    # What a gateway adds (the request id, prediction ids in parameters); a bare model server
    # answers neither.
    if response.id:
        answer["id"] = response.id
    if response.parameters:
        answer["parameters"] = {key: parameter(value) for key, value in response.parameters.items()}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
