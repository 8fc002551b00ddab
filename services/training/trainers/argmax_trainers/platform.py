"""How a trainer talks to the platform: progress and heartbeats, its checkpoint, its outputs.

Contract mode (the runners): HTTP to the training API with the run's bearer token —
`POST /v1/runs/{run}/heartbeats`, `GET|PUT /v1/runs/{run}/checkpoint`,
`PUT /v1/runs/{run}/attempts/{attempt}/artifacts/{name}`. Local mode (benchmarks, tests): JSON
lines on stdout, a checkpoint file, outputs left in a directory.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

Log = Callable[[str], None]


class Http:
    """Requests to the training API, retried on connection errors, 5xx, 408 and 429 — for up to
    `patience` seconds (ARGMAX_API_RETRY_SECONDS, default 600), with backoff from 1 s doubling to
    30 s: a training service restarting or being redeployed must not crash a 24-hour job that
    only wanted to store a checkpoint."""

    def __init__(self, base_url: str, token: str, patience: float | None = None, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.patience = float(os.environ.get("ARGMAX_API_RETRY_SECONDS", "600")) if patience is None else patience
        self.timeout = timeout

    def url(self, *parts: str) -> str:
        return self.base_url + "/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)

    def request(
        self, method: str, url: str, body: bytes | None = None, content_type: str | None = None, allow_404: bool = False
    ) -> bytes | None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        delay = 1.0
        while True:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, data=body, method=method, headers=headers), timeout=self.timeout
                ) as response:
                    return response.read()
            except urllib.error.HTTPError as error:
                if error.code == 404 and allow_404:
                    return None
                retryable = error.code >= 500 or error.code in (408, 429)
                if not retryable or time.monotonic() - started + delay > self.patience:
                    detail = error.read()[:500].decode("utf-8", "replace")
                    raise RuntimeError(f"{method} {url} answered {error.code}: {detail}") from None
                retry_after = error.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                if time.monotonic() - started + delay > self.patience:
                    raise RuntimeError(f"{method} {url} failed for {time.monotonic() - started:.0f} s: {error}") from None
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


class Reporter:
    """Progress of the training. Locally every call is a JSON line on stdout. Against the API a
    background thread posts heartbeats: the newest progress at most every `min_gap` seconds, and
    the last known state again every `interval` seconds even when nothing changed (a slow
    iteration must not look like a dead trainer)."""

    def __init__(
        self,
        *,
        attempt: int = 1,
        post: Callable[[dict], None] | None = None,
        lines: Callable[[str], None] | None = None,
        log: Log = lambda _: None,
        interval: float = 30.0,
        min_gap: float = 1.0,
    ) -> None:
        self.attempt = attempt
        self.post = post
        self.lines = lines
        self.log = log
        self.interval = interval
        self.min_gap = min_gap
        self.state: dict[str, Any] = {"attempt": attempt, "iteration": 0, "totalIterations": 0, "metrics": {}}
        self.dirty = False
        self.cond = threading.Condition()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        if self.post is not None:
            self.thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
            self.thread.start()

    def progress(self, iteration: int, total: int, metrics: dict[str, float], message: str | None = None) -> None:
        self._update({"iteration": iteration, "totalIterations": total, "metrics": metrics}, message, "progress")

    def message(self, message: str) -> None:
        self._update({}, message, "message")

    def event(self, record: dict) -> None:
        """A local-mode-only line (checkpoint saved, done, …)."""
        if self.lines is not None:
            self.lines(json.dumps(record, allow_nan=False))

    def _update(self, fields: dict, message: str | None, kind: str) -> None:
        with self.cond:
            self.state.update(fields)
            if message is not None:
                self.state["message"] = message
            else:
                self.state.pop("message", None)
            self.dirty = True
            snapshot = dict(self.state)
            self.cond.notify()
        if self.lines is not None:
            record = {"event": kind, **{k: v for k, v in snapshot.items() if k != "attempt"}}
            self.lines(json.dumps(record, allow_nan=False))

    def stop(self) -> None:
        if self.thread is None:
            return
        with self.cond:
            self.stopping = True
            self.cond.notify()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        last_post = 0.0
        while True:
            with self.cond:
                now = time.monotonic()
                wait = self.interval - (now - last_post)
                if self.dirty:
                    wait = min(wait, self.min_gap - (now - last_post))
                if not self.stopping and wait > 0:
                    self.cond.wait(timeout=wait)
                now = time.monotonic()
                due = self.stopping or now - last_post >= self.interval or (self.dirty and now - last_post >= self.min_gap)
                if not due:
                    continue
                payload = dict(self.state)
                self.dirty = False
                stopping = self.stopping
            last_post = time.monotonic()
            try:
                assert self.post is not None
                self.post(payload)
            except Exception as error:  # a lost heartbeat must not stop the training
                self.failures += 1
                self.log(f"heartbeat failed ({self.failures} so far): {error}")
            if stopping:
                return


class LocalCheckpoints:
    """The checkpoint as a file; written atomically (a kill mid-write leaves the previous one)."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "checkpoint.ubj")
        os.makedirs(directory, exist_ok=True)

    def load(self) -> bytes | None:
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def save(self, data: bytes) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def describe(self) -> str:
        return self.path


class HttpCheckpoints:
    def __init__(self, http: Http, run_id: str) -> None:
        self.http = http
        self.url = http.url("v1", "runs", run_id, "checkpoint")

    def load(self) -> bytes | None:
        return self.http.request("GET", self.url, allow_404=True)

    def save(self, data: bytes) -> None:
        self.http.request("PUT", self.url, data, "application/octet-stream")

    def describe(self) -> str:
        return self.url


CONTENT_TYPES = {
    ".onnx": "application/octet-stream",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".log": "text/plain; charset=utf-8",
    ".pkl": "application/octet-stream",
}


class HttpArtifacts:
    def __init__(self, http: Http, run_id: str, attempt: int) -> None:
        self.http = http
        self.run_id = run_id
        self.attempt = attempt

    def upload(self, path: str) -> None:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            body = f.read()
        content_type = CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        url = self.http.url("v1", "runs", self.run_id, "attempts", str(self.attempt), "artifacts", name)
        self.http.request("PUT", url, body, content_type)


def stdout_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
