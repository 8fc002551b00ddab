"""The trainer process: contract mode (started by a runner, everything from ARGMAX_* variables
and the training API) or local mode (`--dataset PATH --output DIR`). See ../README.md."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, BinaryIO, Callable

from .errors import EXIT_CRASH, EXIT_OK, EXIT_USER_ERROR, UserError
from .params import TASKS, TRAINERS, JobParams, parse_job_params, resolve_trainer_params
from .platform import Http, HttpArtifacts, HttpCheckpoints, LocalCheckpoints, Reporter, stdout_line
from .source import drain, is_url, open_hashing, remove_quietly
from .split import SPLIT_NAMES

OUTPUT_ORDER = ("model.onnx", "model.json", "model.pkl", "schema.json", "predictions-sample.jsonl", "holdout.jsonl", "metrics.json", "reproducibility.json", "train.log")
# Test records kept in holdout.jsonl (ARGMAX_HOLDOUT_MAX_ROWS; 0: none).
DEFAULT_HOLDOUT_MAX_ROWS = 100_000


class Log:
    """Timestamped lines to stderr and to train.log."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", encoding="utf-8")

    def __call__(self, message: str) -> None:
        line = f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds')} {message}"
        print(line, file=sys.stderr, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train.py", description="Argmax's built-in trainers (xgboost, linear).")
    parser.add_argument("--trainer", required=True, choices=TRAINERS)
    parser.add_argument("--dataset", help="local mode: a CSV or JSON Lines file (or an http(s) URL)")
    parser.add_argument("--format", choices=("csv", "jsonl"), help="local mode: the dataset's format (default: from its name)")
    parser.add_argument("--output", help="local mode: the directory the outputs are written to")
    parser.add_argument("--params", help="local mode: the job's parameters as JSON (ARGMAX_PARAMS)")
    parser.add_argument("--checkpoint-dir", help="local mode: where the checkpoint lives (default: OUTPUT/checkpoint)")
    parser.add_argument(
        "--extra-dataset",
        action="append",
        default=[],
        help="local mode: another file of the same format whose records follow the dataset's (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    local = args.dataset is not None
    if local and not args.output:
        print("train.py: --output is required with --dataset", file=sys.stderr)
        return EXIT_USER_ERROR
    env = os.environ
    workdir = tempfile.mkdtemp(prefix="argmax-trainer-", dir=env.get("ARGMAX_WORK_DIR") or None)
    out_dir = os.path.abspath(args.output) if local else os.path.join(workdir, "output")
    os.makedirs(out_dir, exist_ok=True)
    log = Log(os.path.join(out_dir, "train.log"))
    reporter: Reporter | None = None
    artifacts: HttpArtifacts | None = None
    code = EXIT_OK
    try:
        if local:
            checkpoints: Any = LocalCheckpoints(args.checkpoint_dir or os.path.join(out_dir, "checkpoint"))
            reporter = Reporter(lines=stdout_line, log=log)
            dataset = args.dataset
            fmt = args.format or _format_of(dataset)
            params_text = args.params if args.params is not None else "{}"
            expected_sha = None
            extras = [{"url": path, "format": fmt} for path in args.extra_dataset]
            attempt = 1
        else:
            missing = [
                name
                for name in ("ARGMAX_RUN_ID", "ARGMAX_DATASET_URL", "ARGMAX_PARAMS", "ARGMAX_API_URL", "ARGMAX_RUN_TOKEN")
                if not env.get(name)
            ]
            if missing:
                raise RuntimeError(f"contract mode needs {', '.join(missing)} (or run with --dataset for local mode)")
            attempt = int(env.get("ARGMAX_ATTEMPT", "1"))
            http = Http(env["ARGMAX_API_URL"], env["ARGMAX_RUN_TOKEN"])
            run_id = env["ARGMAX_RUN_ID"]
            heartbeat_url = http.url("v1", "runs", run_id, "heartbeats")
            reporter = Reporter(
                attempt=attempt,
                post=lambda payload: http.request("POST", heartbeat_url, json.dumps(payload).encode(), "application/json"),
                log=log,
                interval=float(env.get("ARGMAX_HEARTBEAT_SECONDS", "30")),
            )
            checkpoints = HttpCheckpoints(http, run_id)
            artifacts = HttpArtifacts(http, run_id, attempt)
            dataset = env["ARGMAX_DATASET_URL"]
            fmt = env.get("ARGMAX_DATASET_FORMAT") or "csv"
            params_text = env["ARGMAX_PARAMS"]
            expected_sha = env.get("ARGMAX_DATASET_SHA256") or None
            extras = _extra_datasets(env.get("ARGMAX_EXTRA_DATASETS", ""))
        reporter.start()
        log(f"argmax trainer '{args.trainer}' ({'local' if local else 'contract'} mode, attempt {attempt})")
        written = run(args.trainer, dataset, fmt, params_text, expected_sha, workdir, out_dir, checkpoints, reporter, log, extras)
        reporter.message("done")
        reporter.stop()
        log.close()
        if artifacts is not None:
            for name in OUTPUT_ORDER:
                if name in written:
                    artifacts.upload(os.path.join(out_dir, name))
        reporter.event({"event": "done", "outputs": sorted(written)})
    except UserError as error:
        code = EXIT_USER_ERROR
        _fail(error.to_json(), f"user error: {error.message}", log, reporter, artifacts, out_dir)
    except BaseException as error:  # a crash: the platform retries from the checkpoint
        if isinstance(error, KeyboardInterrupt):
            raise
        code = EXIT_CRASH
        detail = "".join(traceback.format_exception(error))
        _fail({"event": "error", "kind": "crash", "message": str(error) or type(error).__name__}, f"crash: {detail}", log, reporter, artifacts, out_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


def _fail(record: dict, text: str, log: Log, reporter: Reporter | None, artifacts: HttpArtifacts | None, out_dir: str) -> None:
    try:
        log(text)
        log.close()
    except ValueError:
        pass  # already closed
    if reporter is not None:
        reporter.message(record["message"][:500])
        reporter.stop()
    if artifacts is not None:
        try:
            artifacts.upload(os.path.join(out_dir, "train.log"))
        except Exception as error:  # the log is a courtesy; the exit code is what counts
            print(f"train.log upload failed: {error}", file=sys.stderr)
    stdout_line(json.dumps(record, ensure_ascii=False))


@dataclass
class _Part:
    scan: Any
    sha256: str
    size: int
    spool: str | None
    open: Callable[[], BinaryIO]


def _read_part(location: str, fmt: str, expected_sha: str | None, workdir: str, i: int, log: Log) -> _Part:
    """Pass 1 over one dataset file: its types, SHA-256 and size (a URL's bytes spooled for pass 2)."""
    from .table import scan_types

    started = time.monotonic()
    spool = os.path.join(workdir, f"dataset-{i}.raw") if is_url(location) else None
    try:
        reader, handles = open_hashing(location, spool)
    except FileNotFoundError:
        raise UserError(f"dataset file {location} does not exist", code="missing_dataset", parameter="dataset") from None
    gc.disable()  # millions of small rows: the cycle collector would only slow the passes down
    try:
        scan = scan_types(reader, fmt)
        drain(reader)
    finally:
        for h in handles:
            h.close()
        gc.enable()
    sha256 = reader.hash.hexdigest()
    if expected_sha and sha256 != expected_sha.lower():
        # Not the user's fault and maybe transient: a crash, so the platform retries.
        raise RuntimeError(f"the dataset's SHA-256 is {sha256}, the run expects {expected_sha}")
    what = "dataset" if i == 0 else f"extra dataset {i}"
    log(f"{what}: {reader.size} bytes, sha256 {sha256}, {scan.rows} records, {len(scan.columns)} columns ({fmt}), read in {time.monotonic() - started:.1f}s")
    path = spool or location
    return _Part(scan, sha256, reader.size, spool, lambda: open(path, "rb"))


def _extra_datasets(text: str) -> list[dict]:
    """ARGMAX_EXTRA_DATASETS: a JSON list of {url, format, sha256} (absent: none)."""
    if not text:
        return []
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get("url"), str) for v in value):
        raise RuntimeError("ARGMAX_EXTRA_DATASETS must be a JSON list of {url, format, sha256}")
    return [{"url": v["url"], "format": v.get("format") or "csv", "sha256": v.get("sha256")} for v in value]


def _holdout_max_rows() -> int:
    text = os.environ.get("ARGMAX_HOLDOUT_MAX_ROWS", "")
    try:
        value = int(text) if text else DEFAULT_HOLDOUT_MAX_ROWS
    except ValueError:
        raise RuntimeError(f"ARGMAX_HOLDOUT_MAX_ROWS must be an integer, not {text!r}") from None
    return max(0, value)


def _format_of(path: str) -> str:
    lower = path.lower().split("?")[0]
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def _precheck(trainer: str, task: str | None, params: dict) -> None:
    """Refuses unknown or out-of-range parameters before any byte is downloaded."""
    if task is not None:
        resolve_trainer_params(trainer, task, params)
        return
    first: UserError | None = None
    for candidate in TASKS:
        try:
            resolve_trainer_params(trainer, candidate, params)
            return
        except UserError as error:
            first = first or error
    assert first is not None
    raise first


def run(
    trainer: str,
    dataset: str,
    fmt: str,
    params_text: str,
    expected_sha: str | None,
    workdir: str,
    out_dir: str,
    checkpoints: Any,
    reporter: Reporter,
    log: Log,
    extras: list[dict] | None = None,
) -> set[str]:
    """Trains on `dataset`, followed by `extras` ({url, format, sha256}: more records of the same
    table, e.g. a feedback dataset's labelled predictions) read as one table."""
    extras = extras or []
    started = time.monotonic()
    job: JobParams = parse_job_params(params_text)
    _precheck(trainer, job.task, job.params)
    if fmt not in ("csv", "jsonl"):
        raise UserError(f"dataset format must be csv or jsonl, not {fmt!r}", parameter="format")
    # The ML libraries take seconds to import: only once the parameters are known to be good.
    from . import linear_trainer, xgboost_trainer
    from .dataset import plan_features, prepare
    from .outputs import write_outputs
    from .table import combine_scans

    reporter.message("reading the dataset")
    parts = [_read_part(dataset, fmt, expected_sha, workdir, 0, log)]
    for i, extra in enumerate(extras, start=1):
        if extra["format"] != fmt:
            raise UserError(
                f"extra dataset {i} is {extra['format']}, the dataset {fmt}: a run's files share one format",
                parameter="format",
            )
        parts.append(_read_part(extra["url"], extra["format"], extra.get("sha256"), workdir, i, log))
    scan = combine_scans([p.scan for p in parts])
    sha256 = parts[0].sha256
    if len(parts) > 1:
        log(f"{len(parts)} dataset files read as one table: {scan.rows} records, {len(scan.columns)} columns")

    plan = plan_features(scan, job.target, job.features, job.task)
    params = resolve_trainer_params(trainer, plan.task, job.params)
    for name, why in plan.skipped:
        log(f"column '{name}' left out of the features: {why}")
    log(f"task {plan.task}, target '{plan.target}', {len(plan.features)} features: " + ", ".join(f"{f.name} ({f.kind})" for f in plan.features))

    reporter.message("encoding and splitting the dataset")
    gc.disable()
    try:
        prepared = prepare(
            [p.open for p in parts],
            scan,
            plan,
            job.seed,
            params["max_categories"],
            workdir,
            holdout_max_rows=_holdout_max_rows(),
        )
    finally:
        gc.enable()
    for p in parts:
        if p.spool:
            remove_quietly(p.spool)
    log(
        "rows with a target: "
        + ", ".join(f"{name} {n}" for name, n in zip(SPLIT_NAMES, prepared.rows))
        + f"; {prepared.dropped_missing_target} without a target left out ({time.monotonic() - started:.1f}s)"
    )

    from .reproducibility import code_sha256

    code_version = code_sha256()
    fp = xgboost_trainer.fingerprint(
        {
            "trainer": trainer,
            "dataset_sha256": sha256,
            **({"extra_sha256": [p.sha256 for p in parts[1:]]} if len(parts) > 1 else {}),
            "task": plan.task,
            "target": plan.target,
            "features": [f.name for f in plan.features],
            "seed": job.seed,
            "params": params,
            "code": code_version,
        }
    )
    ctx = xgboost_trainer.TrainContext(job.seed, job.checkpoint_every, fp, checkpoints, reporter, log)
    train = xgboost_trainer.train if trainer == "xgboost" else linear_trainer.train
    result = train(prepared, params, ctx)
    test = result.metrics["test"]
    log(f"test: {json.dumps(test)}; baseline: {json.dumps(result.metrics['baseline'])}")
    written = write_outputs(
        out_dir,
        trainer=trainer,
        job=job,
        params=params,
        prepared=prepared,
        result=result,
        dataset={
            "sha256": sha256,
            "bytes": parts[0].size,
            "format": fmt,
            "records": parts[0].scan.rows,
            **({"extra": [{"sha256": p.sha256, "bytes": p.size, "records": p.scan.rows} for p in parts[1:]]} if len(parts) > 1 else {}),
        },
        code_version=code_version,
        seconds=time.monotonic() - started,
    )
    log(f"outputs written in {time.monotonic() - started:.1f}s: {', '.join(sorted(written))}")
    return written


if __name__ == "__main__":
    sys.exit(main())
