"""ONNX graphs that take the raw columns and hold the preprocessing, so training and serving
cannot skew. One 1-D input per feature column (shape [-1]): FP32 for numbers and booleans (NaN
= missing), strings (v2 BYTES) for categorical columns (an empty string = missing; unknown
categories are treated like missing). Opsets: ai.onnx 13, ai.onnx.ml 3.

  xgboost:  LabelEncoder (category → its index, unknown → NaN) ─┐
            numbers ────────────────────────────────────────────┴─ Concat → TreeEnsemble…
  linear:   numbers → Concat → Imputer (training mean) → Scaler ─┐
            strings → OneHotEncoder (unknown → all zeros) ───────┴─ Concat → Linear…

Outputs: regression `predictions` FP32 [-1]; classification `probabilities` FP32 [-1, C] (no
ZipMap) and `label` (the class name, a string tensor [-1]) = the class of the largest
probability. The label is computed by ArgMax + Gather rather than taken from the classifier
operators: onnxruntime's binary TreeEnsembleClassifier thresholds the raw score at 0.5 when
every leaf weight is positive, which can disagree with its own probabilities.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .dataset import Feature

OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]
ML = "ai.onnx.ml"
# Stands in for a category list that is empty (no training value): it can never match.
NO_CATEGORY = "\u0000argmax:no-category"


class GraphBuilder:
    def __init__(self, reserved: list[str]) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.reserved = set(reserved)
        self.count = 0
        self.value_info: list[onnx.ValueInfoProto] = []

    def declare(self, name: str, columns: int) -> str:
        """Types a float [N, columns] value whose operator (Imputer, Scaler, OneHotEncoder,
        LinearRegressor) has no
        type inference in onnx, so the checker's strict shape inference can follow it."""
        self.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", columns]))
        return name

    def name(self, hint: str) -> str:
        while True:
            self.count += 1
            candidate = f"argmax.{hint}.{self.count}"
            if candidate not in self.reserved:
                return candidate

    def node(self, op: str, inputs: list[str], outputs: int | list[str] = 1, domain: str = "", **attrs) -> list[str]:
        names = outputs if isinstance(outputs, list) else [self.name(op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, domain=domain, name=self.name(op), **attrs))
        return names

    def const(self, array: np.ndarray, hint: str = "const") -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def column(self, name: str) -> str:
        """[N] → [N, 1]"""
        shape = self.const(np.array([-1, 1], np.int64), "shape")
        return self.node("Reshape", [name, shape])[0]


def graph_inputs(features: list[Feature]) -> list[onnx.ValueInfoProto]:
    return [
        helper.make_tensor_value_info(
            f.name, TensorProto.STRING if f.kind == "categorical" else TensorProto.FLOAT, ["N"]
        )
        for f in features
    ]


def xgboost_features(b: GraphBuilder, features: list[Feature]) -> str:
    """The matrix the booster was trained on: [N, F] float, category indices as floats."""
    columns = []
    for f in features:
        if f.kind == "categorical":
            keys = f.categories or [NO_CATEGORY]
            values = [float(i) for i in range(len(f.categories))] or [math.nan]
            encoded = b.node(
                "LabelEncoder", [f.name], domain=ML, keys_strings=keys, values_floats=values, default_float=math.nan
            )[0]
            columns.append(b.column(encoded))
        else:
            columns.append(b.column(f.name))
    return b.node("Concat", columns, axis=1)[0]


def linear_features(b: GraphBuilder, features: list[Feature]) -> str:
    """[numbers imputed and standardised…, one-hot blocks…] — the design matrix of linear.py."""
    numeric = [f for f in features if f.kind != "categorical"]
    blocks = []
    if numeric:
        stacked = b.node("Concat", [b.column(f.name) for f in numeric], axis=1)[0]
        imputed = b.node(
            "Imputer",
            [stacked],
            domain=ML,
            imputed_value_floats=[f.mean for f in numeric],
            replaced_value_float=math.nan,
        )[0]
        b.declare(imputed, len(numeric))
        scaled = b.node(
            "Scaler", [imputed], domain=ML, offset=[f.mean for f in numeric], scale=[1.0 / scale_of(f) for f in numeric]
        )[0]
        blocks.append(b.declare(scaled, len(numeric)))
    for f in features:
        if f.kind == "categorical" and f.categories:
            onehot = b.node("OneHotEncoder", [f.name], domain=ML, cats_strings=f.categories, zeros=1)[0]
            blocks.append(b.declare(onehot, len(f.categories)))
    return blocks[0] if len(blocks) == 1 else b.node("Concat", blocks, axis=1)[0]


def scale_of(f: Feature) -> float:
    return f.std if f.std > 0 else 1.0


def classification_outputs(b: GraphBuilder, probabilities: str, classes: list[str]) -> None:
    index = b.node("ArgMax", [probabilities], axis=1, keepdims=0)[0]
    labels = b.const(np.array(classes, dtype=object), "classes")
    b.node("Gather", [labels, index], ["label"], axis=0)


def finish(b: GraphBuilder, features: list[Feature], task: str, classes: list[str], doc: str) -> onnx.ModelProto:
    if task == "regression":
        outputs = [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, ["N"])]
    else:
        outputs = [
            helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(classes)]),
        ]
    graph = helper.make_graph(
        b.nodes, "argmax_model", graph_inputs(features), outputs, b.initializers, value_info=b.value_info
    )
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="argmax-trainers", doc_string=doc)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def linear_model(features: list[Feature], task: str, classes: list[str], coef: np.ndarray, intercept: np.ndarray) -> onnx.ModelProto:
    """coef [targets, width] and intercept [targets] of a scikit-learn linear model on the design
    matrix of `linear_features` (binary classification: one row, the positive class's)."""
    b = GraphBuilder([f.name for f in features])
    x = linear_features(b, features)
    coefficients = [float(v) for v in np.asarray(coef, np.float64).ravel()]
    intercepts = [float(v) for v in np.asarray(intercept, np.float64).ravel()]
    if task == "regression":
        y = b.node("LinearRegressor", [x], domain=ML, coefficients=coefficients, intercepts=intercepts, targets=1)[0]
        b.declare(y, 1)
        b.node("Reshape", [y, b.const(np.array([-1], np.int64), "shape")], ["predictions"])
    else:
        _, scores = b.node(
            "LinearClassifier",
            [x],
            2,
            domain=ML,
            coefficients=coefficients,
            intercepts=intercepts,
            classlabels_strings=classes,
            post_transform="LOGISTIC" if len(classes) == 2 else "SOFTMAX",
        )
        b.node("Identity", [scores], ["probabilities"])
        classification_outputs(b, "probabilities", classes)
    return finish(b, features, task, classes, "linear (scikit-learn) with imputation, scaling and one-hot inside")
