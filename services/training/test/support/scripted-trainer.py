#!/usr/bin/python3
"""A trainer for tests, following the job contract (trainers/README.md), whose behaviour the
test picks: `ARGMAX_TRAINING_BUILTIN_COMMAND=["/usr/bin/python3", "scripted-trainer.py", CONTROL]`.

The mode is read from CONTROL/<runId>.<attempt>, else CONTROL/<runId>, else CONTROL/default
(else `real`):

  real       the built-in trainer itself (the happy paths use the real trainers)
  crash      exits 1 at once, as a crashing trainer does
  user_error exits 2 with the contract's error line
  silent     sleeps without a heartbeat (a hung trainer)
  sleep      heartbeats every half second and never ends (a long training)
  mismatch   trains for real in local mode, then uploads a predictions sample that its
             model.onnx does not reproduce (a custom trainer's wrong file)
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_PY = os.path.join(HERE, "..", "..", "trainers", "train.py")


def mode(control: str) -> str:
    run, attempt = os.environ.get("ARGMAX_RUN_ID", ""), os.environ.get("ARGMAX_ATTEMPT", "")
    for name in (f"{run}.{attempt}", run, "default"):
        try:
            with open(os.path.join(control, name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            continue
    return "real"


def call(method: str, path: str, body: bytes | None = None, content_type: str = "application/json") -> None:
    url = os.environ["ARGMAX_API_URL"].rstrip("/") + path
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Authorization": "Bearer " + os.environ["ARGMAX_RUN_TOKEN"], "Content-Type": content_type}
    )
    urllib.request.urlopen(request, timeout=30).read()


def heartbeat(iteration: int) -> None:
    body = {"attempt": int(os.environ["ARGMAX_ATTEMPT"]), "iteration": iteration, "totalIterations": 1000, "metrics": {"loss": 1.0 / (iteration + 1)}}
    call("POST", f"/v1/runs/{os.environ['ARGMAX_RUN_ID']}/heartbeats", json.dumps(body).encode())


def main() -> int:
    control, args = sys.argv[1], sys.argv[2:]
    chosen = mode(control)
    print(f"scripted trainer: mode {chosen}, attempt {os.environ.get('ARGMAX_ATTEMPT')}", file=sys.stderr, flush=True)
    if chosen == "real":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", TRAIN_PY, *args])
    if chosen == "crash":
        print("Traceback (most recent call last):\nRuntimeError: scripted crash", file=sys.stderr)
        print(json.dumps({"event": "error", "kind": "crash", "message": "scripted crash"}))
        return 1
    if chosen == "user_error":
        print(json.dumps({"event": "error", "kind": "user_error", "code": "invalid_parameter", "message": "scripted user error"}))
        return 2
    if chosen == "silent":
        time.sleep(3600)
        return 1
    if chosen == "sleep":
        i = 0
        while True:
            try:
                heartbeat(i)
            except Exception as error:  # like the built-in trainers: a lost heartbeat is no reason to stop
                print(f"heartbeat failed: {error}", file=sys.stderr, flush=True)
            i += 1
            time.sleep(0.5)
    if chosen == "mismatch":
        return mismatch(args)
    print(f"unknown mode {chosen}", file=sys.stderr)
    return 1


def mismatch(args: list[str]) -> int:
    trainer = args[args.index("--trainer") + 1]
    out = tempfile.mkdtemp(dir=os.environ.get("ARGMAX_WORK_DIR"))
    heartbeat(0)
    subprocess.run(
        ["/usr/bin/python3", TRAIN_PY, "--trainer", trainer, "--dataset", os.environ["ARGMAX_DATASET_URL"], "--format",
         os.environ.get("ARGMAX_DATASET_FORMAT", "csv"), "--output", out, "--params", os.environ["ARGMAX_PARAMS"]],
        check=True, stdout=subprocess.DEVNULL,
    )
    sample = os.path.join(out, "predictions-sample.jsonl")
    lines = []
    with open(sample) as f:
        for line in f:
            record = json.loads(line)
            if "predictions" in record["outputs"]:
                record["outputs"]["predictions"] += 1.0
            lines.append(json.dumps(record))
    with open(sample, "w") as f:
        f.write("\n".join(lines) + "\n")
    run, attempt = os.environ["ARGMAX_RUN_ID"], os.environ["ARGMAX_ATTEMPT"]
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                call("PUT", f"/v1/runs/{run}/attempts/{attempt}/artifacts/{name}", f.read(), "application/octet-stream")
    return 0


if __name__ == "__main__":
    sys.exit(main())
