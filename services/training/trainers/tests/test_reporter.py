import json
import threading
import time
import unittest

from argmax_trainers.platform import Reporter


class ReporterTest(unittest.TestCase):
    def test_heartbeats_keep_coming_while_an_iteration_is_slow(self):
        posts: list[dict] = []
        reporter = Reporter(attempt=3, post=posts.append, interval=0.1, min_gap=0.02)
        reporter.start()
        reporter.progress(7, 100, {"train-rmse": 0.5})
        state = {"attempt": 3, "iteration": 7, "totalIterations": 100, "metrics": {"train-rmse": 0.5}}
        # A "slow iteration": no progress at all, yet the same state keeps being posted.
        deadline = time.monotonic() + 30
        while sum(p == state for p in posts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        reporter.stop()
        self.assertGreaterEqual(sum(p == state for p in posts), 3)

    def test_fast_progress_is_coalesced_and_the_last_state_always_sent(self):
        posts: list[dict] = []
        reporter = Reporter(attempt=1, post=posts.append, interval=60, min_gap=0.05)
        reporter.start()
        for i in range(1, 2001):
            reporter.progress(i, 2000, {"train-rmse": 1 / i})
        reporter.message("done")
        reporter.stop()
        self.assertLess(len(posts), 50)
        self.assertEqual(posts[-1]["message"], "done")
        self.assertEqual(posts[-1]["iteration"], 2000)

    def test_a_failing_api_never_stops_the_training(self):
        failures = threading.Event()
        log: list[str] = []

        def post(_: dict) -> None:
            failures.set()
            raise RuntimeError("503 from the training API")

        reporter = Reporter(post=post, interval=0.05, min_gap=0.01, log=log.append)
        reporter.start()
        reporter.progress(1, 2, {})
        self.assertTrue(failures.wait(2))
        reporter.progress(2, 2, {})
        reporter.stop()
        self.assertTrue(any("heartbeat failed" in line for line in log))

    def test_local_mode_prints_one_json_line_per_call(self):
        lines: list[str] = []
        reporter = Reporter(lines=lines.append)
        reporter.progress(1, 10, {"validation-logloss": 0.25})
        reporter.event({"event": "checkpoint", "iteration": 1})
        self.assertEqual(
            [json.loads(line) for line in lines],
            [
                {"event": "progress", "iteration": 1, "totalIterations": 10, "metrics": {"validation-logloss": 0.25}},
                {"event": "checkpoint", "iteration": 1},
            ],
        )


if __name__ == "__main__":
    unittest.main()
