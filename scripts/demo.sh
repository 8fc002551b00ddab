#!/usr/bin/env bash
# The README's first command: sets up this machine (system packages + pnpm workspace), starts
# the whole platform in the background, shows every part ready, then uploads the movies demo
# dataset (3,201 films from vega-datasets) and prints the schema and profile the platform
# inferred, trains an XGBoost regressor of `IMDB Rating` on it (test RMSE/MAE/R² next to the
# mean baseline), shows the movies model's newest version with its lineage and releases it,
# predicts the IMDB rating of a few films through the inference gateway over gRPC and REST
# (predicted vs actual), counts those predictions in ClickHouse as the analyst user, then sends
# ground truth for the films it predicted and prints the model's live quality and drift.
# Safe to run again: the stack, the dataset, a READY run of that version and the release are
# reused.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
export AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 NODE_NO_WARNINGS=1
argmax() { cli/bin/argmax "$@"; }

echo "── argmax up --detach"
argmax up --detach
echo
echo "── argmax status"
argmax status

echo
echo "── the movies dataset"
demo_dir="${ARGMAX_DATA_DIR:-.argmax}/demo"
mkdir -p "$demo_dir"
# vega-datasets ships movies.json as one JSON array; the platform takes JSON Lines.
node -e '
  const { createRequire } = require("node:module")
  const path = require("node:path"), fs = require("node:fs")
  const req = createRequire(path.resolve("services/dataset/package.json"))
  const data = path.join(path.dirname(req.resolve("vega-datasets")), "../data/movies.json")
  const rows = JSON.parse(fs.readFileSync(data, "utf8"))
  fs.writeFileSync(process.argv[1], rows.map((r) => JSON.stringify(r)).join("\n") + "\n")
' "$demo_dir/movies.jsonl"

# Reads JSON on stdin and prints the result of a JS expression over it (`it`), or nothing.
pick() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const it=JSON.parse(s);const v=eval(process.argv[1]);process.stdout.write(v==null?"":String(v))})' "$1"; }

dataset_id=$(argmax datasets list --name movies --json | pick 'it.items.find((d) => d.name === "movies")?.id')
if [ -z "$dataset_id" ]; then
  dataset_id=$(argmax datasets create movies --description "IMDB and Rotten Tomatoes ratings, budgets and grosses of 3,201 films (vega-datasets)" --tag demo --json | pick 'it.id')
  echo "created dataset $dataset_id"
fi
version_id=$(argmax datasets versions "$dataset_id" --json | pick 'it.items.find((v) => v.status === "VALIDATED")?.id')
if [ -z "$version_id" ]; then
  argmax datasets upload "$dataset_id" "$demo_dir/movies.jsonl" --no-progress
  version_id=$(argmax datasets versions "$dataset_id" --json | pick 'it.items.find((v) => v.status === "VALIDATED")?.id')
else
  argmax datasets show "$dataset_id" "$version_id"
fi

echo
echo "── training: an XGBoost regressor of IMDB Rating"
# A READY run of this dataset version is reused; one still queued or training (an earlier demo
# interrupted) is followed; otherwise a new run is submitted and followed to READY.
runs_json=$(argmax runs list --model movies --dataset-version "$version_id" --limit 200 --json)
run_id=$(printf '%s' "$runs_json" | pick 'it.items.find((r) => r.status === "READY" && r.target === "IMDB Rating")?.id')
if [ -n "$run_id" ]; then
  echo "reusing READY run $run_id"
else
  run_id=$(printf '%s' "$runs_json" | pick 'it.items.find((r) => ["PENDING", "TRAINING"].includes(r.status) && r.target === "IMDB Rating")?.id')
  if [ -z "$run_id" ]; then
    run_id=$(argmax runs create --model movies --dataset-version "$version_id" --target "IMDB Rating" \
      --trainer xgboost --seed 1 --json | pick 'it.id')
    echo "submitted run $run_id"
  fi
  argmax runs show "$run_id" --follow --json >/dev/null
fi
argmax runs show "$run_id" --json | pick '[
  `test split of ${it.metrics.test_rows} films      model    mean baseline (${it.metrics.baseline_value.toFixed(2)})`,
  ...["rmse", "mae", "r2"].map((m) => `  ${(m === "r2" ? "R²" : m.toUpperCase()).padEnd(28)}${(it.metrics[m] + 0).toFixed(3).replace(/^-(0\.0+)$/, "$1").padStart(7)}  ${it.metrics["baseline_" + m].toFixed(3).replace(/^-(0\.0+)$/, "$1").padStart(9)}`),
].join("\n") + "\n"'

echo
echo "── the movies model in the registry"
# Training registers each READY run of the model as its next version; show the newest with its
# lineage and, if nothing serves the model yet, release it to 100 % of its traffic.
# The registry learns of the run from the TRAINING stream: give it a moment to register it.
latest=""
for _ in $(seq 1 60); do
  versions_json=$(argmax models versions movies --json 2>/dev/null || true)
  if [ -n "$versions_json" ]; then
    latest=$(printf '%s' "$versions_json" | pick "it.items.find((v) => v.source?.runId === '$run_id' || v.runId === '$run_id')?.version ?? ''")
    [ -n "$latest" ] && break
  fi
  sleep 1
done
if [ -z "$latest" ] && [ -n "$versions_json" ]; then
  latest=$(printf '%s' "$versions_json" | pick 'it.items[0]?.version')
fi
if [ -z "$latest" ]; then
  echo "The registry has not registered run $run_id as a version of the movies model; see"
  echo "'cli/bin/argmax models show movies' (runs it refused are listed there). Nothing to release."
else
  argmax models show movies "$latest"
  echo
  argmax models lineage movies "$latest"
  echo
  stable=$(argmax models release movies --json | pick 'it.release?.stable')
  if [ -z "$stable" ]; then
    argmax models release movies --stable "$latest" \
      --reason "demo: the newest movies version takes 100 % of the traffic"
  else
    argmax models release movies
  fi
fi

echo
echo "── predicting IMDB ratings through the inference gateway (gRPC and REST)"
# The gateway follows the release above; the predictions are logged and counted in ClickHouse.
node scripts/demo-predict.mjs "$demo_dir/movies.jsonl" "$demo_dir"

echo
echo "── ground truth for the movies model's predictions: live quality and drift"
# Predicts 300 films through the edge, sends their actual IMDB ratings to POST /v1/feedback and
# prints the live MAE and R² per version (argmax quality) and the inputs that drift the most.
node scripts/demo-feedback.mjs "$demo_dir/movies.jsonl"

echo
echo "The platform keeps running: 'cli/bin/argmax status' to check, 'cli/bin/argmax down' to stop it."
