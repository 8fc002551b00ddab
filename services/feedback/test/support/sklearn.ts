import { spawnSync } from 'node:child_process'

/**
 * scikit-learn's metrics on the same rows, computed by Debian's Python (`/usr/bin/python3`:
 * a python3 earlier on PATH may lack the packages) — the independent computation live quality
 * is checked against.
 */
const SCRIPT = String.raw`
import json, sys
import numpy as np
from sklearn import metrics as m
data = json.load(sys.stdin)
out = {}
for key, rows in data.items():
    if rows["task"] == "regression":
        y = np.array(rows["y"], dtype=np.float64); p = np.array(rows["p"], dtype=np.float64)
        out[key] = {"mae": m.mean_absolute_error(y, p), "rmse": m.mean_squared_error(y, p) ** 0.5, "r2": m.r2_score(y, p)}
    else:
        y = rows["y"]; p = rows["p"]; classes = rows["classes"]
        order = sorted(range(len(classes)), key=lambda i: classes[i])
        probs = np.array(rows["probs"], dtype=np.float64)[:, order]
        pr, rc, f1, _ = m.precision_recall_fscore_support(y, p, average="macro", zero_division=0)
        out[key] = {"accuracy": m.accuracy_score(y, p), "precision": pr, "recall": rc, "f1": f1,
                    "logLoss": m.log_loss(y, probs, labels=sorted(classes))}
json.dump(out, sys.stdout)
`

export type SklearnInput =
  | { task: 'regression'; y: number[]; p: number[] }
  | { task: 'classification'; y: string[]; p: string[]; probs: number[][]; classes: string[] }

export function sklearnMetrics(
  input: Record<string, SklearnInput>,
): Record<string, Record<string, number>> {
  const run = spawnSync('/usr/bin/python3', ['-c', SCRIPT], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (run.status !== 0) throw new Error(`scikit-learn failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as Record<string, Record<string, number>>
}
