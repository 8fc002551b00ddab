"""Writes the small ONNX models the tests and benchmarks serve and register.

Built with onnx.helper (Debian's python3-onnx) and checked with onnx.checker:

- linear-<intercept>.onnx: x1 FP32 [-1] (nullable: NaN imputed to 0), x2 FP32 [-1]
  -> y FP32 [-1, 1] = 2*x1 + 3*x2 + intercept (ai.onnx.ml Imputer + LinearRegressor).
- mixed.onnx: genre BYTES [-1] (LabelEncoder: Drama 1, Comedy 2, anything else -1),
  budget FP32 [-1] (nullable: NaN imputed to 0) -> rating FP32 [-1, 1] = 10*genre + 0.5*budget + 1.

Usage: python3 onnx_models.py OUT_DIR INTERCEPT [INTERCEPT ...]
"""
import sys

import onnx
from onnx import TensorProto, helper

OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]
AXES = helper.make_tensor("axes", TensorProto.INT64, [1], [1])


def column(name, out):
    """A 1-D column [N] as a [N, 1] matrix column."""
    return helper.make_node("Unsqueeze", [name, "axes"], [out])


def impute(name, out):
    return helper.make_node(
        "Imputer", [name], [out], domain="ai.onnx.ml",
        imputed_value_floats=[0.0], replaced_value_float=float("nan"),
    )


def save(graph, path):
    model = helper.make_model(graph, opset_imports=OPSETS)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def linear(path, intercept):
    nodes = [
        impute("x1", "x1_imputed"),
        column("x1_imputed", "x1_column"),
        column("x2", "x2_column"),
        helper.make_node("Concat", ["x1_column", "x2_column"], ["features"], axis=1),
        helper.make_node(
            "LinearRegressor", ["features"], ["y"], domain="ai.onnx.ml",
            coefficients=[2.0, 3.0], intercepts=[intercept],
        ),
    ]
    graph = helper.make_graph(
        nodes, "linear",
        [helper.make_tensor_value_info("x1", TensorProto.FLOAT, [None]),
         helper.make_tensor_value_info("x2", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        initializer=[AXES],
    )
    save(graph, path)


def mixed(path):
    nodes = [
        helper.make_node(
            "LabelEncoder", ["genre"], ["genre_code"], domain="ai.onnx.ml",
            keys_strings=["Drama", "Comedy"], values_floats=[1.0, 2.0], default_float=-1.0,
        ),
        column("genre_code", "genre_column"),
        impute("budget", "budget_imputed"),
        column("budget_imputed", "budget_column"),
        helper.make_node("Concat", ["genre_column", "budget_column"], ["features"], axis=1),
        helper.make_node(
            "LinearRegressor", ["features"], ["rating"], domain="ai.onnx.ml",
            coefficients=[10.0, 0.5], intercepts=[1.0],
        ),
    ]
    graph = helper.make_graph(
        nodes, "mixed",
        [helper.make_tensor_value_info("genre", TensorProto.STRING, [None]),
         helper.make_tensor_value_info("budget", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("rating", TensorProto.FLOAT, [None, 1])],
        initializer=[AXES],
    )
    save(graph, path)


if __name__ == "__main__":
    out = sys.argv[1]
    for intercept in sys.argv[2:]:
        linear(f"{out}/linear-{intercept}.onnx", float(intercept))
    mixed(f"{out}/mixed.onnx")
