"""XGBoost booster → ONNX `TreeEnsembleRegressor` / `TreeEnsembleClassifier`.

Debian has no XGBoost → ONNX converter (no onnxmltools), so this is ours, written once and kept
small; the tests check it against XGBoost's own predictions in onnxruntime-node. It reads the
booster's JSON model (the format XGBoost documents and keeps stable):

- every split node becomes `BRANCH_LT` (XGBoost goes left when `x < split_condition`, both as
  float32), true branch = left child, and `nodes_missing_value_tracks_true` = the node's
  `default_left`, so a NaN takes the direction XGBoost learned for missing values;
- every leaf's value (`split_conditions` of a leaf) becomes a weight of the tree's target
  (regression, binary) or of its class (`tree_info`, multi-class);
- `base_score` becomes `base_values`, in margin space: as it is for `reg:squarederror` and
  each class of `multi:softprob`, logit(base_score) for `binary:logistic`;
- the objective's link: none (regression), LOGISTIC (binary: [1 − p, p]), SOFTMAX (multi).

Only `gbtree` models with numeric splits are converted (the trainer never asks XGBoost for
categorical splits: categories arrive as indices).
"""

from __future__ import annotations

import json
import math

import numpy as np
import onnx
import xgboost as xgb

from .dataset import Feature
from .onnx_export import ML, GraphBuilder, classification_outputs, finish, xgboost_features

SUPPORTED = ("reg:squarederror", "binary:logistic", "multi:softprob")


def tree_attributes(booster: xgb.Booster) -> tuple[str, float, int, dict[str, list]]:
    model = json.loads(booster.save_raw(raw_format="json"))
    learner = model["learner"]
    objective = learner["objective"]["name"]
    if objective not in SUPPORTED:
        raise ValueError(f"objective {objective} cannot be exported")
    if learner["gradient_booster"]["name"] != "gbtree":
        raise ValueError("only gbtree boosters can be exported")
    base_score = float(learner["learner_model_param"]["base_score"])
    num_class = int(learner["learner_model_param"]["num_class"])
    gbtree = learner["gradient_booster"]["model"]
    nodes: dict[str, list] = {
        k: []
        for k in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_values",
            "nodes_modes",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "nodes_missing_value_tracks_true",
            "leaf_treeids",
            "leaf_nodeids",
            "leaf_ids",
            "leaf_weights",
        )
    }
    for t, (tree, group) in enumerate(zip(gbtree["trees"], gbtree["tree_info"])):
        left = tree["left_children"]
        right = tree["right_children"]
        feature = tree["split_indices"]
        condition = tree["split_conditions"]
        default_left = tree["default_left"]
        if any(tree.get("split_type", [])):
            raise ValueError("categorical splits cannot be exported")
        for i in range(len(left)):
            nodes["nodes_treeids"].append(t)
            nodes["nodes_nodeids"].append(i)
            if left[i] == -1:
                nodes["nodes_modes"].append("LEAF")
                nodes["nodes_featureids"].append(0)
                nodes["nodes_values"].append(0.0)
                nodes["nodes_truenodeids"].append(0)
                nodes["nodes_falsenodeids"].append(0)
                nodes["nodes_missing_value_tracks_true"].append(0)
                nodes["leaf_treeids"].append(t)
                nodes["leaf_nodeids"].append(i)
                nodes["leaf_ids"].append(int(group) if num_class > 1 else 0)
                nodes["leaf_weights"].append(float(np.float32(condition[i])))
            else:
                nodes["nodes_modes"].append("BRANCH_LT")
                nodes["nodes_featureids"].append(int(feature[i]))
                nodes["nodes_values"].append(float(np.float32(condition[i])))
                nodes["nodes_truenodeids"].append(int(left[i]))
                nodes["nodes_falsenodeids"].append(int(right[i]))
                nodes["nodes_missing_value_tracks_true"].append(1 if default_left[i] else 0)
    return objective, base_score, num_class, nodes


def xgboost_model(booster: xgb.Booster, features: list[Feature], task: str, classes: list[str]) -> onnx.ModelProto:
    objective, base_score, num_class, attrs = tree_attributes(booster)
    leaves = {k: attrs.pop(k) for k in ("leaf_treeids", "leaf_nodeids", "leaf_ids", "leaf_weights")}
    b = GraphBuilder([f.name for f in features])
    x = xgboost_features(b, features)
    if objective == "reg:squarederror":
        y = b.node(
            "TreeEnsembleRegressor",
            [x],
            domain=ML,
            n_targets=1,
            target_treeids=leaves["leaf_treeids"],
            target_nodeids=leaves["leaf_nodeids"],
            target_ids=leaves["leaf_ids"],
            target_weights=leaves["leaf_weights"],
            base_values=[base_score],
            aggregate_function="SUM",
            post_transform="NONE",
            **attrs,
        )[0]
        b.node("Reshape", [y, b.const(np.array([-1], np.int64), "shape")], ["predictions"])
    else:
        binary = objective == "binary:logistic"
        if binary:
            base_values = [_logit(base_score)]
        else:
            if num_class != len(classes):
                raise ValueError(f"the booster has {num_class} classes, the signature {len(classes)}")
            base_values = [base_score] * num_class
        _, scores = b.node(
            "TreeEnsembleClassifier",
            [x],
            2,
            domain=ML,
            class_treeids=leaves["leaf_treeids"],
            class_nodeids=leaves["leaf_nodeids"],
            class_ids=leaves["leaf_ids"],
            class_weights=leaves["leaf_weights"],
            classlabels_strings=classes,
            base_values=base_values,
            post_transform="LOGISTIC" if binary else "SOFTMAX",
            **attrs,
        )
        b.node("Identity", [scores], ["probabilities"])
        classification_outputs(b, "probabilities", classes)
    return finish(b, features, task, classes, f"xgboost {xgb.__version__} ({objective}) with category encoding inside")


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))
