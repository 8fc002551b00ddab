"""The `xgboost` trainer: gradient-boosted trees (XGBoost's `hist`), fed batch by batch from the
spools through a `DataIter` into `QuantileDMatrix`es, trained round by round so that every
round reports its metrics and every `checkpointEvery` rounds leave a checkpoint.

Resuming is exact: the checkpoint is the booster itself (UBJSON) with our loop's state (rounds
done, early-stopping bests, metric history, a fingerprint of data + parameters) stored in one
of its attributes, and `seed_per_iteration` reseeds XGBoost's sampling from (seed, round), so
round k draws the same rows and columns whether or not the process died before it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import xgboost as xgb

from . import metrics
from .dataset import Prepared
from .split import TEST, TRAIN, VALIDATION
from .xgboost_onnx import xgboost_model

STATE_ATTR = "argmax_checkpoint"
BATCH_BYTES = 64 << 20


@dataclass
class TrainContext:
    seed: int
    checkpoint_every: int
    fingerprint: str
    checkpoints: Any  # LocalCheckpoints | HttpCheckpoints
    reporter: Any  # Reporter
    log: Callable[[str], None]


@dataclass
class TrainResult:
    onnx_model: Any
    native: list[tuple[str, bytes]]
    metrics: dict
    sample_outputs: list[dict]
    iterations: dict
    classes: list[str]  # classification: the model's classes, in the order of its probabilities


class SpoolIter(xgb.DataIter):
    """One split's spool, batch by batch: what QuantileDMatrix sketches and then compresses."""

    def __init__(self, prepared: Prepared, split: int, batch_rows: int) -> None:
        self.prepared = prepared
        self.split = split
        self.batch_rows = batch_rows
        self._batches = None
        super().__init__()

    def reset(self) -> None:
        self._batches = None

    def next(self, input_data: Callable) -> int:
        if self._batches is None:
            self._batches = self.prepared.batches(self.split, self.batch_rows)
        try:
            x, y = next(self._batches)
        except StopIteration:
            self._batches = None
            return 0
        input_data(data=x, label=y.astype(np.float32))
        return 1


def booster_params(prepared: Prepared, p: dict, seed: int) -> tuple[dict, str]:
    params: dict[str, Any] = {
        "tree_method": "hist",
        "max_depth": p["max_depth"],
        "eta": p["learning_rate"],
        "subsample": p["subsample"],
        "colsample_bytree": p["colsample_bytree"],
        "min_child_weight": p["min_child_weight"],
        "lambda": p["reg_lambda"],
        "alpha": p["reg_alpha"],
        "gamma": p["gamma"],
        "max_bin": p["max_bin"],
        "seed": seed,
        "seed_per_iteration": True,
        "nthread": p["nthread"] or len(os.sched_getaffinity(0)),
        "verbosity": 1,
    }
    if prepared.plan.task == "regression":
        params.update(objective="reg:squarederror", eval_metric="rmse")
        return params, "rmse"
    if len(prepared.classes) == 2:
        params.update(objective="binary:logistic", eval_metric="logloss")
        return params, "logloss"
    params.update(objective="multi:softprob", num_class=len(prepared.classes), eval_metric="mlogloss")
    return params, "mlogloss"


def parse_eval(line: str) -> dict[str, float]:
    """`[12]\ttrain-rmse:0.51\tvalidation-rmse:0.63` → {'train-rmse': 0.51, 'validation-rmse': 0.63}"""
    out = {}
    for part in line.split("\t")[1:]:
        name, value = part.rsplit(":", 1)
        out[name] = float(value)
    return out


def train(prepared: Prepared, p: dict, ctx: TrainContext) -> TrainResult:
    params, metric = booster_params(prepared, p, ctx.seed)
    total = p["n_estimators"]
    patience = p["early_stopping_rounds"]
    batch_rows = max(1024, BATCH_BYTES // (4 * max(1, prepared.width)))
    ctx.reporter.message("building the training matrices")
    dtrain = xgb.QuantileDMatrix(SpoolIter(prepared, TRAIN, batch_rows), max_bin=p["max_bin"], nthread=params["nthread"])
    dvalid = xgb.QuantileDMatrix(
        SpoolIter(prepared, VALIDATION, batch_rows), ref=dtrain, max_bin=p["max_bin"], nthread=params["nthread"]
    )
    ctx.log(f"xgboost {xgb.__version__}: {dtrain.num_row()} training rows, {dvalid.num_row()} validation rows, {dtrain.num_col()} features")

    booster, state = resume(params, [dtrain, dvalid], ctx)
    evals = [(dtrain, "train"), (dvalid, "validation")]
    watched = f"validation-{metric}"
    if not state["stopped"]:
        for i in range(state["rounds"], total):
            booster.update(dtrain, i)
            scores = parse_eval(booster.eval_set(evals, i))
            state["history"].append({"iteration": i + 1, **scores})
            score = scores[watched]
            if state["best_score"] is None or score < state["best_score"]:
                state["best_score"] = score
                state["best_iteration"] = i
            state["rounds"] = i + 1
            stop = patience is not None and i - state["best_iteration"] >= patience
            state["stopped"] = stop or i + 1 == total
            ctx.reporter.progress(i + 1, total, scores)
            if (i + 1) % ctx.checkpoint_every == 0 or state["stopped"]:
                save_checkpoint(booster, state, ctx)
            if stop:
                ctx.log(f"early stopping after round {i + 1}: best round {state['best_iteration'] + 1} ({watched} {state['best_score']})")
                break
    del dvalid, dtrain

    # With early stopping the model is the best round's; without, every round is kept.
    best = state["best_iteration"] if patience is not None else state["rounds"] - 1
    final = booster[: best + 1] if patience is not None else booster
    final.set_attr(**{STATE_ATTR: None})
    final.set_attr(best_iteration=str(best), best_score=str(state["history"][best][watched]))
    native = final.save_raw(raw_format="json")

    ctx.reporter.message("evaluating on the test split")
    ys, preds = [], []
    for x, y in prepared.batches(TEST, batch_rows):
        ys.append(y)
        preds.append(final.inplace_predict(x))
    y_test = np.concatenate(ys)
    p_test = np.concatenate(preds)
    sample = final.inplace_predict(prepared.sample_x) if len(prepared.sample_x) else np.zeros(0)
    if prepared.plan.task == "regression":
        result = metrics.regression(y_test, p_test, prepared.target_mean)
        outputs = [{"predictions": float(v)} for v in sample]
    else:
        probs = _probabilities(p_test, len(prepared.classes))
        prior = np.array(prepared.class_counts[TRAIN], np.float64) / prepared.rows[TRAIN]
        result = metrics.classification(y_test, probs, prior, prepared.classes)
        sample_probs = _probabilities(sample, len(prepared.classes))
        outputs = [
            {"label": prepared.classes[int(np.argmax(row))], "probabilities": [float(v) for v in row]}
            for row in sample_probs
        ]
    gain = final.get_score(importance_type="gain")
    result["feature_importance_gain"] = {
        f.name: float(gain.get(f"f{j}", 0.0)) for j, f in enumerate(prepared.plan.features)
    }
    result["validation"] = {k: v for k, v in state["history"][best].items() if k != "iteration"}
    result["history"] = state["history"]
    iterations = {"completed": state["rounds"], "best": best + 1, "requested": total, "resumed_from": state.get("resumed_from", 0)}
    onnx_model = xgboost_model(final, prepared.plan.features, prepared.plan.task, prepared.classes)
    return TrainResult(onnx_model, [("model.json", bytes(native))], result, outputs, iterations, prepared.classes)


def _probabilities(p: np.ndarray, n_classes: int) -> np.ndarray:
    if n_classes == 2:
        p1 = p.reshape(-1).astype(np.float64)
        return np.stack([1.0 - p1, p1], axis=1)
    return p.reshape(-1, n_classes).astype(np.float64)


def new_state() -> dict:
    return {"rounds": 0, "best_iteration": None, "best_score": None, "stopped": False, "history": [], "resumed_from": 0}


def resume(params: dict, cache: list, ctx: TrainContext) -> tuple[xgb.Booster, dict]:
    data = ctx.checkpoints.load()
    if data:
        booster = xgb.Booster(params, cache, model_file=bytearray(data))
        raw = booster.attr(STATE_ATTR)
        state = json.loads(raw) if raw else None
        if state and state.get("fingerprint") == ctx.fingerprint and booster.num_boosted_rounds() == state["rounds"]:
            state.pop("fingerprint")
            state["resumed_from"] = state["rounds"]
            ctx.log(f"resuming from the checkpoint at round {state['rounds']} ({ctx.checkpoints.describe()})")
            ctx.reporter.event({"event": "resumed", "iteration": state["rounds"]})
            return booster, state
        ctx.log("a checkpoint exists but belongs to other data or parameters: starting from round 0")
    return xgb.Booster(params, cache), new_state()


def save_checkpoint(booster: xgb.Booster, state: dict, ctx: TrainContext) -> None:
    booster.set_attr(**{STATE_ATTR: json.dumps({**state, "fingerprint": ctx.fingerprint})})
    data = bytes(booster.save_raw(raw_format="ubj"))
    ctx.checkpoints.save(data)
    ctx.reporter.event({"event": "checkpoint", "iteration": state["rounds"], "bytes": len(data)})


def fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
