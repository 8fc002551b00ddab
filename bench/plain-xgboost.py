"""The baseline of bench/trainer.bench.ts: a plain XGBoost script with the same parameters as
the built-in trainer, on the same split, written the way one would by hand — the whole JSON
file in memory, numbers as floats, strings as sorted category codes, `xgb.train` with early
stopping on the validation split. Prints one JSON line: the test RMSE and the mean baseline.

    /usr/bin/python3 bench/plain-xgboost.py FILE.json TARGET SEED PARAMS_JSON
"""

import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services", "training", "trainers"))
from argmax_trainers.split import TEST, TRAIN, VALIDATION, split_ids  # noqa: E402  (the same split only)

path, target, seed, params = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
with open(path) as f:
    records = json.load(f)
columns = [c for c in records[0].keys() if c != target]
X = np.full((len(records), len(columns)), np.nan, dtype=np.float32)
for j, c in enumerate(columns):
    values = [r.get(c) for r in records]
    if all(v is None or isinstance(v, (int, float)) for v in values):
        X[:, j] = [np.nan if v is None else v for v in values]
    else:
        codes = {v: i for i, v in enumerate(sorted({str(v) for v in values if v is not None}))}
        X[:, j] = [np.nan if v is None else codes[str(v)] for v in values]
y = np.array([np.nan if r.get(target) is None else r[target] for r in records], dtype=np.float64)
split = split_ids(np.arange(len(records)), seed)
keep = ~np.isnan(y)
part = {s: keep & (split == s) for s in (TRAIN, VALIDATION, TEST)}
dtrain = xgb.DMatrix(X[part[TRAIN]], label=y[part[TRAIN]])
dvalid = xgb.DMatrix(X[part[VALIDATION]], label=y[part[VALIDATION]])
booster = xgb.train(
    {
        "objective": "reg:squarederror",
        "tree_method": "hist",
        "max_depth": params["max_depth"],
        "eta": params["learning_rate"],
        "max_bin": params["max_bin"],
        "seed": seed,
        "nthread": 2,
    },
    dtrain,
    num_boost_round=params["n_estimators"],
    evals=[(dvalid, "validation")],
    early_stopping_rounds=params["early_stopping_rounds"],
    verbose_eval=False,
)
predicted = booster.predict(xgb.DMatrix(X[part[TEST]]), iteration_range=(0, booster.best_iteration + 1))
y_test = y[part[TEST]]
mean = float(y[part[TRAIN]].mean())
print(
    json.dumps(
        {
            "test_rmse": math.sqrt(float(np.mean((predicted - y_test) ** 2))),
            "baseline_rmse": math.sqrt(float(np.mean((mean - y_test) ** 2))),
            "best_iteration": booster.best_iteration + 1,
            "test_rows": int(part[TEST].sum()),
        }
    )
)
