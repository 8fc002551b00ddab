"""The job's parameters (`ARGMAX_PARAMS`) and each trainer's hyper-parameters, validated.

Every refusal is a UserError naming the parameter, so the platform can show the user what to
fix. Unknown names are refused too: a typo (`max_dept`) silently ignored would train a model
the user did not ask for.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError

TASKS = ("regression", "classification")
TRAINERS = ("xgboost", "linear")


@dataclass(frozen=True)
class Param:
    kind: str  # 'int' | 'float' | 'choice' | 'int_or_none'
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    tasks: tuple[str, ...] = TASKS
    help: str = ""


# The tables live in params.json, beside this file: the training service reads the same file to
# refuse a bad parameter at submission, before any job starts, with the same message.
_TABLES_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "params.json")


def _load_specs(path: str) -> dict[str, dict[str, Param]]:
    with open(path, encoding="utf-8") as f:
        tables = json.load(f)
    specs: dict[str, dict[str, Param]] = {}
    for trainer in TRAINERS:
        specs[trainer] = {
            name: Param(
                kind=entry["kind"],
                default=entry["default"],
                low=entry.get("low"),
                high=entry.get("high"),
                low_open=entry.get("lowOpen", False),
                choices=tuple(entry.get("choices", ())),
                aliases=tuple(entry.get("aliases", ())),
                tasks=tuple(entry.get("tasks", TASKS)),
                help=entry.get("help", ""),
            )
            for name, entry in tables[trainer].items()
        }
    return specs


SPECS: dict[str, dict[str, Param]] = _load_specs(_TABLES_PATH)
XGBOOST_PARAMS = SPECS["xgboost"]
LINEAR_PARAMS = SPECS["linear"]


@dataclass
class JobParams:
    target: str
    features: list[str] | None
    task: str | None
    seed: int
    checkpoint_every: int
    params: dict[str, Any] = field(default_factory=dict)  # raw, validated later against the task


JOB_KEYS = {"target", "features", "task", "seed", "params", "checkpointEvery"}


def parse_job_params(text: str | None) -> JobParams:
    """Parses `ARGMAX_PARAMS` (or `--params`): the job-level keys, not yet the trainer's."""
    if text is None or text.strip() == "":
        raise UserError("ARGMAX_PARAMS is empty: it needs at least a target column", parameter="target")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"ARGMAX_PARAMS is not valid JSON: {error}", parameter="params") from None
    if not isinstance(raw, dict):
        raise UserError("ARGMAX_PARAMS must be a JSON object", parameter="params")
    for key in raw:
        if key not in JOB_KEYS:
            raise UserError(
                f"unknown parameter '{key}' (expected one of {', '.join(sorted(JOB_KEYS))})", parameter=key
            )
    target = raw.get("target")
    if not isinstance(target, str) or target == "":
        raise UserError("'target' must name the column to predict", parameter="target")
    features = raw.get("features")
    if features is not None:
        if not isinstance(features, list) or not all(isinstance(f, str) and f for f in features):
            raise UserError("'features' must be a list of column names", parameter="features")
        if len(set(features)) != len(features):
            raise UserError("'features' names a column twice", parameter="features")
        if target in features:
            raise UserError(f"'features' includes the target column '{target}'", parameter="features")
        if not features:
            raise UserError("'features' is empty", parameter="features")
    task = raw.get("task")
    if task is not None and task not in TASKS:
        raise UserError(f"'task' must be one of {', '.join(TASKS)}, not {task!r}", parameter="task")
    seed = raw.get("seed", 0)
    if not _is_int(seed) or not 0 <= seed < 2**32:
        raise UserError("'seed' must be an integer in [0, 2^32)", parameter="seed")
    every = raw.get("checkpointEvery", 50)
    if not _is_int(every) or not 1 <= every <= 1_000_000:
        raise UserError("'checkpointEvery' must be an integer ≥ 1", parameter="checkpointEvery")
    params = raw.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise UserError("'params' must be a JSON object of trainer parameters", parameter="params")
    return JobParams(target, features, task, int(seed), int(every), params)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def resolve_trainer_params(trainer: str, task: str, given: dict[str, Any]) -> dict[str, Any]:
    """Checks `params` against the trainer's table for this task; returns every value, defaults filled."""
    spec = SPECS[trainer]
    by_alias: dict[str, str] = {}
    for name, p in spec.items():
        by_alias[name] = name
        for alias in p.aliases:
            by_alias[alias] = name
    seen: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in given.items():
        name = by_alias.get(key)
        if name is None:
            known = ", ".join(sorted(by_alias))
            raise UserError(f"unknown {trainer} parameter 'params.{key}' (known: {known})", parameter=f"params.{key}")
        if name in seen:
            raise UserError(
                f"'params.{key}' and 'params.{seen[name]}' are the same parameter: give one",
                parameter=f"params.{key}",
            )
        seen[name] = key
        p = spec[name]
        if task not in p.tasks:
            raise UserError(
                f"'params.{key}' does not apply to {task} with the {trainer} trainer", parameter=f"params.{key}"
            )
        out[name] = _check(f"params.{key}", p, value)
    for name, p in spec.items():
        out.setdefault(name, p.default)
    return {k: v for k, v in out.items() if task in spec[k].tasks}


def _check(label: str, p: Param, value: Any) -> Any:
    def fail(expected: str) -> UserError:
        return UserError(f"'{label}' must be {expected}, not {json.dumps(value)}", parameter=label)

    if p.kind == "choice":
        if value not in p.choices:
            raise fail("one of " + ", ".join(repr(c) for c in p.choices))
        return value
    if p.kind == "int_or_none" and value is None:
        return None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if p.kind in ("int", "int_or_none"):
        if not is_number or not float(value).is_integer():
            raise fail("an integer" + _range(p))
        value = int(value)
    elif not is_number or not math.isfinite(value):
        raise fail("a number" + _range(p))
    low_ok = p.low is None or (value > p.low if p.low_open else value >= p.low)
    high_ok = p.high is None or value <= p.high
    if not (low_ok and high_ok):
        raise fail("a number" + _range(p) if p.kind == "float" else "an integer" + _range(p))
    return float(value) if p.kind == "float" else value


def _range(p: Param) -> str:
    if p.low is None and p.high is None:
        return ""
    left = "(" if p.low_open else "["
    return f" in {left}{_fmt(p.low)}, {_fmt(p.high)}]"


def _fmt(x: float | None) -> str:
    if x is None:
        return "∞"
    return str(int(x)) if float(x).is_integer() else str(x)


