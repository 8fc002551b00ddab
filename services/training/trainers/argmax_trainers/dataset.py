"""From a dataset file to what the trainers learn from, in two streaming passes.

Pass 1 (`scan_types`) learns the columns and their types. Pass 2 encodes every record into a
float32 row (numbers as they are, booleans 1/0, strings as a first-seen code, missing = NaN),
assigns its split (split.py), drops records without a target, and appends the rows to one
binary spool file per split on local disk; meanwhile it counts categories and classes and sums
the numeric columns over the training split. The trainers then read the spools in batches
(XGBoost's DataIter) — the file is never held in memory, whatever its size.

Category order is decided after pass 2 (most frequent in the training split first, ties by
value, at most `max_categories`); `remap` turns first-seen codes into final indices (NaN for
categories not kept: they are "unknown", as unseen values are at prediction time).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

import numpy as np

from .errors import UserError
from .split import SPLIT_NAMES, TEST, TRAIN, VALIDATION_FRACTION, TRAIN_FRACTION, holdout_keep, split_ids
from .table import TableScan, json_text, table_batches

MAX_CLASSES = 1000
# Distinct values tracked per string column; values first seen after that are unknown.
MAX_TRACKED_CATEGORIES = 1_000_000
SAMPLE_ROWS = 100
HOLDOUT_FILE = "holdout.jsonl"
RESERVED_NAMES = ("predictions", "label", "probabilities")
NAN = float("nan")


@dataclass
class Feature:
    name: str
    kind: str  # 'numeric' | 'boolean' | 'categorical'
    column: int  # index in the scan
    categories: list[str] = field(default_factory=list)  # final order (categorical)
    remap: np.ndarray | None = None  # first-seen code → final index or NaN
    mean: float = 0.0  # training split, non-missing values (numeric / boolean)
    std: float = 0.0
    present: int = 0  # non-missing training values


@dataclass
class Plan:
    task: str
    target: str
    target_column: int
    features: list[Feature]
    skipped: list[tuple[str, str]]  # (column, why) left out of the default feature list


def plan_features(scan: TableScan, target: str, features: list[str] | None, task: str | None) -> Plan:
    if target not in scan.index:
        raise UserError(
            f"target column '{target}' is not in the dataset (columns: {', '.join(c.name for c in scan.columns)})",
            code="missing_column",
            parameter="target",
            column=target,
        )
    tcol = scan.columns[scan.index[target]]
    if tcol.type is None:
        raise UserError(f"target column '{target}' has no values", code="invalid_target", column=target)
    if task is None:
        task = "regression" if tcol.type in ("integer", "float") else "classification"
    if task == "regression" and tcol.type not in ("integer", "float"):
        raise UserError(
            f"target column '{target}' holds {tcol.type} values: regression needs numbers "
            "(set task to classification?)",
            code="invalid_target",
            parameter="task",
            column=target,
        )
    if task == "classification" and tcol.type in ("float", "timestamp"):
        raise UserError(
            f"target column '{target}' holds {tcol.type} values: classification needs labels "
            "(strings, booleans or integers)",
            code="invalid_target",
            parameter="task",
            column=target,
        )
    skipped: list[tuple[str, str]] = []
    if features is None:
        names = []
        for c in scan.columns:
            if c.name == target:
                continue
            if c.type is None:
                skipped.append((c.name, "no values"))
            elif c.type == "timestamp":
                skipped.append((c.name, "timestamps are not supported as features"))
            else:
                names.append(c.name)
        if not names:
            raise UserError("the dataset has no usable feature column besides the target", parameter="features")
    else:
        names = features
        for name in names:
            if name not in scan.index:
                raise UserError(
                    f"feature column '{name}' is not in the dataset", code="missing_column", parameter="features", column=name
                )
            t = scan.columns[scan.index[name]].type
            if t == "timestamp":
                raise UserError(
                    f"feature column '{name}' holds timestamps, which the built-in trainers do not take",
                    parameter="features",
                    column=name,
                )
    out = []
    for name in names:
        if name in RESERVED_NAMES:
            raise UserError(
                f"a feature column is named '{name}', the name of a model output: rename the column",
                parameter="features",
                column=name,
            )
        t = scan.columns[scan.index[name]].type
        kind = "numeric" if t in ("integer", "float", None) else "boolean" if t == "boolean" else "categorical"
        out.append(Feature(name, kind, scan.index[name]))
    return Plan(task, target, scan.index[target], out, skipped)


_BOOL = {"true": 1.0, "false": 0.0}


def _bool_value(v: Any) -> float:
    if v is None or v == "":
        return NAN
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return _BOOL.get(v) if v in _BOOL else _BOOL[v.lower()]  # type: ignore[return-value]


def _number(v: Any) -> float:
    if v is None or v == "":
        return NAN
    return float(v)


def _category(v: Any, fmt: str) -> str | None:
    if v is None:
        return None
    text = v if fmt == "csv" else json_text(v)
    return text if text != "" else None


def _class_key(v: Any, fmt: str, column_type: str) -> str | None:
    if v is None or v == "":
        return None
    if column_type == "boolean":
        return "true" if (v is True or (isinstance(v, str) and v.lower() == "true")) else "false"
    return v if fmt == "csv" else json_text(v)


@dataclass
class Prepared:
    workdir: str
    plan: Plan
    rows_read: int
    rows: list[int]  # per split, records with a target
    dropped_missing_target: int
    classes: list[str]
    class_counts: list[list[int]]  # per split, per class (final order)
    target_mean: float  # regression: training split
    sample_inputs: list[dict]  # tensor-ready raw inputs of the sampled test records
    sample_rows: list[int]  # their record indices in the file
    sample_x: np.ndarray  # their encoded rows (final codes)
    sample_y: np.ndarray
    class_remap: np.ndarray | None = None  # classification: first-seen class code → class index
    holdout_rows: int = 0  # records in holdout.jsonl (in workdir), 0 when none was asked for

    @property
    def width(self) -> int:
        return len(self.plan.features)

    def path(self, split: int, part: str) -> str:
        return os.path.join(self.workdir, f"{SPLIT_NAMES[split]}.{part}")

    def batches(self, split: int, batch_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(X float32 [n, width] with final category codes, y float64 [n]) from the split's spool."""
        width = self.width
        with open(self.path(split, "x"), "rb") as fx, open(self.path(split, "y"), "rb") as fy:
            while True:
                x = np.fromfile(fx, dtype=np.float32, count=batch_rows * width)
                if x.size == 0:
                    return
                y = np.fromfile(fy, dtype=np.float64, count=x.size // width)
                x = x.reshape(-1, width)
                self.finalize(x)
                if self.class_remap is not None:
                    y = self.class_remap[y.astype(np.int64)].astype(np.float64)
                yield x, y

    def finalize(self, x: np.ndarray) -> None:
        """First-seen category codes → final indices, in place."""
        for j, f in enumerate(self.plan.features):
            if f.remap is not None:
                col = x[:, j]
                ok = ~np.isnan(col)
                col[ok] = f.remap[col[ok].astype(np.int64)]

    def load(self, split: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for x, y in self.batches(split, 1 << 18):
            xs.append(x)
            ys.append(y)
        if not xs:
            return np.zeros((0, self.width), np.float32), np.zeros(0)
        return np.concatenate(xs), np.concatenate(ys)


def prepare(
    open_stream: Callable[[], BinaryIO] | list[Callable[[], BinaryIO]],
    scan: TableScan,
    plan: Plan,
    seed: int,
    max_categories: int,
    workdir: str,
    on_progress: Callable[[int], None] | None = None,
    holdout_max_rows: int = 0,
) -> Prepared:
    """Pass 2: encode, split, spool, count. See the module's docstring.

    With `holdout_max_rows` > 0 it also writes `holdout.jsonl` in `workdir`: test records with
    a target, at most that many (a seeded sample when the test split is larger), each as
    `{"row", "inputs", "target"}` — the inputs as the model's tensors take them — so that a
    retrain pipeline can score this model and the one it would replace on the same rows."""
    fmt = scan.format
    features = plan.features
    width = len(features)
    target_type = scan.columns[plan.target_column].type or "string"
    codes: list[dict[str, int]] = [{} for _ in features]
    cat_counts: list[np.ndarray] = [np.zeros(0, np.int64) for _ in features]
    sums = np.zeros(width)
    sumsq = np.zeros(width)
    present = np.zeros(width, np.int64)
    class_codes: dict[str, int] = {}
    class_counts = [np.zeros(0, np.int64) for _ in range(3)]
    target_sum = 0.0
    rows = [0, 0, 0]
    dropped = 0
    read = 0
    sample_inputs: list[dict] = []
    sample_rows: list[int] = []
    sample_x: list[np.ndarray] = []
    sample_y: list[np.ndarray] = []
    files_x = [open(os.path.join(workdir, f"{name}.x"), "wb") for name in SPLIT_NAMES]
    files_y = [open(os.path.join(workdir, f"{name}.y"), "wb") for name in SPLIT_NAMES]
    holdout = open(os.path.join(workdir, HOLDOUT_FILE), "w", encoding="utf-8") if holdout_max_rows > 0 else None
    expected_test = max(1.0, scan.rows * (1.0 - TRAIN_FRACTION - VALIDATION_FRACTION))
    holdout_fraction = min(1.0, holdout_max_rows / expected_test)
    holdout_rows = 0
    opens = open_stream if isinstance(open_stream, list) else [open_stream]
    try:
        for columns in table_batches(opens, scan):
            n = len(columns[0])
            index = np.arange(read, read + n)
            read += n
            # The target decides which records are kept.
            raw_target = columns[plan.target_column]
            if plan.task == "regression":
                y = _numbers(raw_target, n)
                keep = ~np.isnan(y)
            else:
                def class_code(v: Any) -> float:
                    k = _class_key(v, fmt, target_type)
                    if k is None:
                        return NAN
                    code = class_codes.get(k)
                    if code is None:
                        if len(class_codes) >= MAX_CLASSES:
                            raise UserError(
                                f"target column '{plan.target}' has more than {MAX_CLASSES} distinct values: "
                                "too many classes (is this a regression target?)",
                                code="invalid_target",
                                parameter="task",
                                column=plan.target,
                            )
                        code = class_codes[k] = len(class_codes)
                    return float(code)

                y = _lookup(raw_target, n, fmt, class_code).astype(np.float64)
                keep = ~np.isnan(y)
            dropped += int(n - keep.sum())
            x = np.empty((n, width), np.float32)
            for j, f in enumerate(features):
                raw = columns[f.column]
                if f.kind == "numeric":
                    x[:, j] = _numbers(raw, n)
                elif f.kind == "boolean":
                    x[:, j] = _lookup(raw, n, fmt, _bool_value)
                else:
                    x[:, j] = _codes(raw, n, fmt, codes[j])
            split = split_ids(index, seed)
            for s in range(3):
                m = keep & (split == s)
                if not m.any():
                    continue
                xs = x[m]
                ys = y[m]
                xs.tofile(files_x[s])
                ys.tofile(files_y[s])
                rows[s] += len(ys)
                if plan.task == "classification":
                    class_counts[s] = _add_counts(class_counts[s], ys.astype(np.int64), len(class_codes))
                if s == TRAIN:
                    target_sum += float(ys.sum()) if plan.task == "regression" else 0.0
                    for j, f in enumerate(features):
                        col = xs[:, j]
                        ok = ~np.isnan(col)
                        if f.kind == "categorical":
                            cat_counts[j] = _add_counts(cat_counts[j], col[ok].astype(np.int64), len(codes[j]))
                        else:
                            v = col[ok].astype(np.float64)
                            present[j] += v.size
                            sums[j] += v.sum()
                            sumsq[j] += (v * v).sum()
                if s == TEST and len(sample_rows) < SAMPLE_ROWS:
                    take = np.flatnonzero(m)[: SAMPLE_ROWS - len(sample_rows)]
                    for i in take:
                        sample_rows.append(int(index[i]))
                        sample_inputs.append(_sample_inputs(features, columns, int(i), fmt))
                    sample_x.append(x[take].copy())
                    sample_y.append(y[take].copy())
                if s == TEST and holdout is not None and holdout_rows < holdout_max_rows:
                    chosen = np.flatnonzero(m & holdout_keep(index, seed, holdout_fraction))
                    for i in chosen[: holdout_max_rows - holdout_rows]:
                        raw = raw_target[int(i)]
                        target = float(y[i]) if plan.task == "regression" else _class_key(raw, fmt, target_type)
                        record = {"row": int(index[i]), "inputs": _sample_inputs(features, columns, int(i), fmt), "target": target}
                        holdout.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
                        holdout_rows += 1
            if on_progress:
                on_progress(read)
    finally:
        for f in files_x + files_y:
            f.close()
        if holdout is not None:
            holdout.close()

    if rows[TRAIN] == 0 or rows[1] == 0 or rows[TEST] == 0:
        raise UserError(
            f"too few records with a target to split 70/15/15 (train {rows[0]}, validation {rows[1]}, test {rows[2]})",
            code="invalid_data",
        )
    for j, f in enumerate(features):
        if f.kind == "categorical":
            f.categories, f.remap = _keep_categories(codes[j], cat_counts[j], max_categories)
        else:
            f.present = int(present[j])
            if present[j] > 0:
                f.mean = float(sums[j] / present[j])
                var = max(0.0, float(sumsq[j] / present[j]) - f.mean * f.mean)
                f.std = math.sqrt(var)

    classes: list[str] = []
    final_counts: list[list[int]] = [[], [], []]
    if plan.task == "classification":
        classes, class_remap = _order_classes(class_codes)
        for s in range(3):
            counts = np.zeros(len(classes), np.int64)
            raw = np.pad(class_counts[s], (0, len(class_codes) - len(class_counts[s])))
            counts[class_remap] = raw
            final_counts[s] = [int(c) for c in counts]
        present_in_train = sum(1 for c in final_counts[TRAIN] if c > 0)
        if present_in_train < 2:
            raise UserError(
                f"target column '{plan.target}' has fewer than two classes in the training split",
                code="invalid_target",
                column=plan.target,
            )
    prepared = Prepared(
        workdir=workdir,
        plan=plan,
        rows_read=read,
        rows=rows,
        dropped_missing_target=dropped,
        classes=classes,
        class_counts=final_counts,
        target_mean=target_sum / rows[TRAIN] if plan.task == "regression" else 0.0,
        sample_inputs=sample_inputs,
        sample_rows=sample_rows,
        sample_x=np.concatenate(sample_x) if sample_x else np.zeros((0, width), np.float32),
        sample_y=np.concatenate(sample_y) if sample_y else np.zeros(0),
        holdout_rows=holdout_rows,
    )
    prepared.finalize(prepared.sample_x)
    if plan.task == "classification":
        prepared.class_remap = class_remap
        prepared.sample_y = class_remap[prepared.sample_y.astype(np.int64)].astype(np.float64)
    return prepared


def _numbers(raw: tuple, n: int) -> np.ndarray:
    """A column of numbers (CSV text or JSON numbers; '' and None missing) as float64."""
    return np.fromiter(map(float, [NAN if v is None or v == "" else v for v in raw]), np.float64, count=n)


def _hashable(raw: tuple, fmt: str) -> tuple | list:
    # JSON objects and arrays are unhashable: they stand for their JSON text anyway. (CSV cells
    # are strings.)
    if fmt == "jsonl" and any(isinstance(v, (dict, list)) for v in raw):
        return [json_text(v) if isinstance(v, (dict, list)) else v for v in raw]
    return raw


def _lookup(raw: tuple, n: int, fmt: str, convert: Callable[[Any], float]) -> np.ndarray:
    """`convert` once per distinct value of the batch, then a table lookup per cell."""
    raw = _hashable(raw, fmt)
    table = {v: convert(v) for v in set(raw)}
    return np.fromiter(map(table.__getitem__, raw), np.float32, count=n)


def _codes(raw: tuple, n: int, fmt: str, codes: dict[str, int]) -> np.ndarray:
    """First-seen category codes (missing and untracked values NaN), growing `codes`."""

    def code(v: Any) -> float:
        k = _category(v, fmt)
        if k is None:
            return NAN
        c = codes.get(k)
        if c is None:
            if len(codes) >= MAX_TRACKED_CATEGORIES:
                return NAN
            c = codes[k] = len(codes)
        return float(c)

    return _lookup(raw, n, fmt, code)


def _add_counts(counts: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    add = np.bincount(codes, minlength=size)
    if counts.size < add.size:
        counts = np.pad(counts, (0, add.size - counts.size))
    counts[: add.size] += add
    return counts


def _keep_categories(table: dict[str, int], counts: np.ndarray, limit: int) -> tuple[list[str], np.ndarray]:
    names = [""] * len(table)
    for k, c in table.items():
        names[c] = k
    counts = np.pad(counts, (0, len(names) - counts.size))
    order = sorted((i for i in range(len(names)) if counts[i] > 0), key=lambda i: (-counts[i], names[i]))[:limit]
    remap = np.full(len(names), np.nan, np.float32)
    for final, code in enumerate(order):
        remap[code] = final
    return [names[i] for i in order], remap


def _order_classes(table: dict[str, int]) -> tuple[list[str], np.ndarray]:
    names = [""] * len(table)
    for k, c in table.items():
        names[c] = k
    try:
        ordered = sorted(names, key=lambda s: (float(s), s))
    except ValueError:
        ordered = sorted(names)
    position = {name: i for i, name in enumerate(ordered)}
    remap = np.array([position[name] for name in names], np.int64)
    return ordered, remap


def _sample_inputs(features: list[Feature], columns: list[tuple], i: int, fmt: str) -> dict[str, Any]:
    """One record's inputs as the model's tensors take them: numbers (booleans as 1/0) or null for
    FP32 inputs, the category's text or null for BYTES inputs."""
    out: dict[str, Any] = {}
    for f in features:
        v = columns[f.column][i]
        if f.kind == "numeric":
            x = _number(v)
            out[f.name] = None if math.isnan(x) else x
        elif f.kind == "boolean":
            x = _bool_value(v)
            out[f.name] = None if math.isnan(x) else x
        else:
            out[f.name] = _category(v, fmt)
    return out
