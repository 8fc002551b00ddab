"""Train with an interruption and resume from the checkpoint: the same model as one
uninterrupted run. (Without row/column subsampling: XGBoost 1.7 keeps its samplers' random
state inside the tree updater, which no checkpoint carries — see the README.)"""

import json
import os
import random
import tempfile
import unittest

import numpy as np
import xgboost as xgb

from argmax_trainers.dataset import plan_features, prepare
from argmax_trainers.params import resolve_trainer_params
from argmax_trainers.platform import LocalCheckpoints, Reporter
from argmax_trainers.table import scan_types
from argmax_trainers.xgboost_trainer import TrainContext, train


class Crash(Exception):
    pass


class CrashingCheckpoints(LocalCheckpoints):
    """Dies right after its n-th save, as a killed trainer would."""

    def __init__(self, directory: str, crash_after: int | None) -> None:
        super().__init__(directory)
        self.crash_after = crash_after
        self.saves = 0

    def save(self, data: bytes) -> None:
        super().save(data)
        self.saves += 1
        if self.crash_after is not None and self.saves == self.crash_after:
            raise Crash()


def dataset(path: str) -> None:
    rng = random.Random(3)
    with open(path, "w") as f:
        f.write("x1,x2,city,flag,y\n")
        for _ in range(3000):
            x1, x2 = rng.uniform(-3, 3), rng.gauss(0, 1)
            city = rng.choice(["oslo", "lima", "pune", ""])
            flag = rng.choice(["true", "false"])
            y = 2 * x1 + (x2 if city == "oslo" else -x2) + (1 if flag == "true" else 0) + rng.gauss(0, 0.3)
            f.write(f"{x1:.4f},{'' if rng.random() < 0.1 else f'{x2:.4f}'},{city},{flag},{y:.4f}\n")


class ResumeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.csv = os.path.join(self.dir.name, "data.csv")
        dataset(self.csv)
        with open(self.csv, "rb") as f:
            scan = scan_types(f, "csv")
        plan = plan_features(scan, "y", None, None)
        self.params = resolve_trainer_params(
            "xgboost", "regression", {"n_estimators": 60, "max_depth": 4, "early_stopping_rounds": None}
        )
        work = os.path.join(self.dir.name, "work")
        os.makedirs(work)
        self.prepared = prepare(lambda: open(self.csv, "rb"), scan, plan, 5, 100, work)

    def tearDown(self) -> None:
        self.dir.cleanup()

    def run_training(self, checkpoints):
        lines: list[str] = []
        ctx = TrainContext(5, 10, "fp", checkpoints, Reporter(lines=lines.append), lambda _: None)
        return train(self.prepared, self.params, ctx), lines

    def test_interrupted_and_resumed_equals_uninterrupted(self):
        whole, _ = self.run_training(CrashingCheckpoints(os.path.join(self.dir.name, "a"), None))
        interrupted = CrashingCheckpoints(os.path.join(self.dir.name, "b"), crash_after=3)
        with self.assertRaises(Crash):
            self.run_training(interrupted)
        interrupted.crash_after = None
        resumed, lines = self.run_training(interrupted)
        events = [json.loads(line) for line in lines]
        self.assertIn({"event": "resumed", "iteration": 30}, events)
        first = next(e for e in events if e["event"] == "progress")
        self.assertEqual(first["iteration"], 31)  # rounds 1-30 were not trained again
        self.assertEqual(resumed.iterations["resumed_from"], 30)

        a = json.loads(whole.native[0][1])["learner"]["gradient_booster"]["model"]["trees"]
        b = json.loads(resumed.native[0][1])["learner"]["gradient_booster"]["model"]["trees"]
        self.assertEqual(len(a), 60)
        self.assertEqual(a, b)  # the same trees, split for split and leaf for leaf
        x, _ = self.prepared.load(2)
        pa = xgb.Booster(model_file=bytearray(whole.native[0][1])).inplace_predict(x)
        pb = xgb.Booster(model_file=bytearray(resumed.native[0][1])).inplace_predict(x)
        np.testing.assert_allclose(pa, pb, rtol=0, atol=1e-6)
        self.assertEqual(whole.metrics["test"], resumed.metrics["test"])

    def test_a_checkpoint_of_other_data_is_ignored(self):
        store = CrashingCheckpoints(os.path.join(self.dir.name, "c"), None)
        self.run_training(store)
        ctx_lines: list[str] = []
        log: list[str] = []
        ctx = TrainContext(5, 10, "another fingerprint", store, Reporter(lines=ctx_lines.append), log.append)
        result = train(self.prepared, self.params, ctx)
        self.assertEqual(result.iterations["resumed_from"], 0)
        self.assertTrue(any("belongs to other data" in line for line in log))


if __name__ == "__main__":
    unittest.main()
