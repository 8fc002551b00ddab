"""A stock v2 REST client, as tritonclient.http talks by default: numpy inputs sent as binary
tensor data after the JSON request (Triton's binary tensor data extension, `binary_data=True`),
no outputs named so that every output comes back binary (`binary_data_output`), no Content-Type
(geventhttpclient sends none), the JSON's length in `Inference-Header-Content-Length`; the answer
read as tritonclient's InferResult reads it. Standard library and numpy only: tritonclient is not
packaged for Debian.

Usage: python3 triton_http_client.py BASE_URL TOKEN < request.json > response.json
request.json: {"model_name", "model_version", "id", "inputs": [{"name", "datatype", "shape", "data"}]}
(null in FP32 data is NaN). The response lists each output's name, datatype, shape and data, as
v2_client.py prints it.
"""
import http.client
import json
import math
import sys
from urllib.parse import quote, urlsplit

import numpy as np
from v2_bytes import deserialize_bytes, serialize_bytes

NUMPY_OF = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_}


def as_numpy(tensor):
    if tensor["datatype"] == "BYTES":
        return np.array([value.encode("utf-8") for value in tensor["data"]], dtype=np.object_)
    data = [math.nan if value is None else value for value in tensor["data"]]
    return np.array(data, dtype=NUMPY_OF[tensor["datatype"]]).reshape(tensor["shape"])


def main():
    base, token = sys.argv[1:3]
    spec = json.load(sys.stdin)
    tensors, blobs = [], []
    for tensor in spec["inputs"]:
        array = as_numpy(tensor)
        raw = serialize_bytes(array.flatten(order="C")) if tensor["datatype"] == "BYTES" else array.tobytes()
        blobs.append(raw)
        tensors.append(
            {
                "name": tensor["name"],
                "shape": list(tensor["shape"]),
                "datatype": tensor["datatype"],
                "parameters": {"binary_data_size": len(raw)},
            }
        )
    request = {"id": spec["id"], "inputs": tensors, "parameters": {"binary_data_output": True}}
    request_json = json.dumps(request)
    body = request_json.encode() + b"".join(blobs)

    path = f"/v2/models/{quote(spec['model_name'])}/infer"
    if spec.get("model_version"):
        path = f"/v2/models/{quote(spec['model_name'])}/versions/{spec['model_version']}/infer"
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Inference-Header-Content-Length", str(len(request_json)))
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    content = response.read()
    if response.status != 200:
        # tritonclient raises with the v2 `error` member of the answer.
        sys.exit(f"HTTP {response.status}: {json.loads(content)['error']}")

    header_length = response.getheader("Inference-Header-Content-Length")
    if header_length is None:
        sys.exit("the answer has no binary outputs, though every output was asked as binary")
    result = json.loads(content[: int(header_length)])
    buffer, offset = content[int(header_length) :], 0
    outputs = []
    for output in result["outputs"]:
        size = output["parameters"]["binary_data_size"]
        raw = buffer[offset : offset + size]
        offset += size
        if output["datatype"] == "BYTES":
            data = deserialize_bytes(raw)
        else:
            values = np.frombuffer(raw, dtype=NUMPY_OF[output["datatype"]]).reshape(output["shape"])
            data = [None if isinstance(v, float) and math.isnan(v) else v for v in values.flatten().tolist()]
        outputs.append(
            {"name": output["name"], "datatype": output["datatype"], "shape": output["shape"], "data": data}
        )
    answer = {"model_name": result["model_name"], "model_version": result["model_version"], "outputs": outputs}
    for key in ("id", "parameters"):
        if key in result:
            answer[key] = result[key]
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
