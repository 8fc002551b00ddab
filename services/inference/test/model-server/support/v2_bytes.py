"""BYTES tensors in the v2 raw form, as tritonclient's serialize_byte_tensor and
deserialize_bytes_tensor write and read them: each element after its 4-byte little-endian
length. Shared by the Python test clients (gRPC raw contents, REST binary tensor data)."""
import struct


def serialize_bytes(values):
    return b"".join(struct.pack("<I", len(value)) + value for value in values)


def deserialize_bytes(raw):
    values, offset = [], 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<I", raw, offset)
        values.append(raw[offset + 4 : offset + 4 + length].decode("utf-8"))
        offset += 4 + length
    return values
