"""The files a run leaves (see ../README.md, "Outputs")."""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
from typing import Any

import onnx

from .dataset import HOLDOUT_FILE, Prepared
from .params import JobParams
from .reproducibility import git_commit, hardware, library_versions
from .split import SPLIT_NAMES, TEST


def signature(prepared: Prepared, classes: list[str]) -> dict:
    """A `ModelSignature` (shared/contracts/src/model-signature.ts)."""
    inputs = []
    for f in prepared.plan.features:
        spec: dict[str, Any] = {
            "name": f.name,
            "datatype": "BYTES" if f.kind == "categorical" else "FP32",
            "shape": [-1],
            "nullable": True,
            "column": f.name,
        }
        if f.kind == "categorical":
            spec["categories"] = f.categories
        inputs.append(spec)
    target = prepared.plan.target
    if prepared.plan.task == "regression":
        outputs = [{"name": "predictions", "datatype": "FP32", "shape": [-1], "nullable": False, "column": target}]
        return {"task": "regression", "inputs": inputs, "outputs": outputs}
    outputs = [
        {"name": "label", "datatype": "BYTES", "shape": [-1], "nullable": False, "column": target},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, len(classes)], "nullable": False, "column": target},
    ]
    return {"task": "classification", "inputs": inputs, "outputs": outputs, "classes": classes}


def resources() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


def _clean(value: Any) -> Any:
    """JSON has no NaN: a metric that cannot be computed is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_clean(value), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")


def write_outputs(
    out_dir: str,
    *,
    trainer: str,
    job: JobParams,
    params: dict,
    prepared: Prepared,
    result: Any,
    dataset: dict,
    code_version: str,
    seconds: float,
) -> set[str]:
    written = {"train.log"}
    onnx.save(result.onnx_model, os.path.join(out_dir, "model.onnx"))
    written.add("model.onnx")
    for name, data in result.native:
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        written.add(name)

    _write_json(os.path.join(out_dir, "schema.json"), signature(prepared, result.classes))
    written.add("schema.json")

    with open(os.path.join(out_dir, "predictions-sample.jsonl"), "w", encoding="utf-8") as f:
        for row, inputs, target, outputs in zip(prepared.sample_rows, prepared.sample_inputs, prepared.sample_y, result.sample_outputs):
            expected = float(target) if prepared.plan.task == "regression" else prepared.classes[int(target)]
            record = {"row": row, "inputs": inputs, "outputs": outputs, "target": expected}
            f.write(json.dumps(_clean(record), ensure_ascii=False, allow_nan=False) + "\n")
    written.add("predictions-sample.jsonl")

    if prepared.holdout_rows > 0:
        # Test records for scoring this model and another on the same rows (retrain pipelines).
        shutil.move(os.path.join(prepared.workdir, HOLDOUT_FILE), os.path.join(out_dir, "holdout.jsonl"))
        written.add("holdout.jsonl")

    m = result.metrics
    metrics = {
        "trainer": trainer,
        "task": prepared.plan.task,
        "target": prepared.plan.target,
        "classes": result.classes if prepared.plan.task == "classification" else None,
        "rows": {
            "read": prepared.rows_read,
            **{name: n for name, n in zip(SPLIT_NAMES, prepared.rows)},
            "without_target": prepared.dropped_missing_target,
            "holdout": prepared.holdout_rows,
        },
        "test": m["test"],
        "baseline": m["baseline"],
        "validation": m.get("validation"),
        "iterations": result.iterations,
        "feature_importance_gain": m.get("feature_importance_gain"),
        "history": m.get("history", []),
        "seconds": round(seconds, 3),
        "resources": resources(),
    }
    _write_json(os.path.join(out_dir, "metrics.json"), metrics)
    written.add("metrics.json")

    _write_json(
        os.path.join(out_dir, "reproducibility.json"),
        {
            "trainer": trainer,
            "seed": job.seed,
            "split": {"method": "splitmix64(seed, record index)", "fractions": [0.7, 0.15, 0.15], "sample_split": SPLIT_NAMES[TEST]},
            "params": {
                "target": job.target,
                "features": [f.name for f in prepared.plan.features],
                "task": prepared.plan.task,
                "checkpointEvery": job.checkpoint_every,
                "params": params,
            },
            "dataset": dataset,
            "code": {
                "sha256": code_version,
                "commit": git_commit(),
                "image": os.environ.get("ARGMAX_TRAINER_IMAGE"),
            },
            "libraries": library_versions(),
            "hardware": hardware(),
            "run": {"id": os.environ.get("ARGMAX_RUN_ID"), "attempt": os.environ.get("ARGMAX_ATTEMPT")},
        },
    )
    written.add("reproducibility.json")
    return written
