#!/usr/bin/env bash
# Runs every benchmark in turn (each starts the servers it needs) and prints each one's closing
# JSON line, at each benchmark's default size (the file benchmarks use 2 GiB: ~10 minutes in
# all, plus the trainer on 2 GiB: 10–15 more on a quiet machine). Run one with its own flags for
# other sizes, e.g. `npx tsx bench/upload.bench.ts --size-mb 256`.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_NO_WARNINGS=1
results=()
for bench in bench/*.bench.ts; do
  echo "── $bench" >&2
  line=$(npx tsx "$bench" | tail -n 1)
  echo "$line"
  results+=("$line")
done
echo "── all results" >&2
printf '%s\n' "${results[@]}"
