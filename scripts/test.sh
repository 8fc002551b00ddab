#!/usr/bin/env bash
# The whole test suite: lint, typecheck, unit, integration (real servers started by the test
# kit on loopback), end-to-end. Installs what is missing first. Leaves no process behind.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || exit 1

export PATH="$PWD/node_modules/.bin:$PATH"
# The AWS SDK warns on every process that Node 20 support ends in 2027; it is noise in test logs.
export AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 NODE_NO_WARNINGS=1
reports=$(mktemp -d) checks=$(mktemp -d)
trap 'rm -rf "$reports" "$checks"' EXIT
status=0

step() {
  echo "── $1"
  shift
  "$@" || status=1
}

# Lint, format and typecheck are independent and each mostly one thread: they run side by
# side, and each one's output is shown when all are done.
check() {
  local name=$1
  shift
  ("$@" >"$checks/$name.out" 2>&1; echo $? >"$checks/$name.status") &
}
check lint eslint . --max-warnings=0
check format prettier --check . --log-level=warn
check typecheck turbo run typecheck --output-logs=errors-only
wait
for name in lint format typecheck; do
  echo "── $name"
  cat "$checks/$name.out"
  [ "$(cat "$checks/$name.status")" = 0 ] || status=1
done
for project in unit int e2e; do
  step "test: $project" vitest run --project "$project" --passWithNoTests \
    --reporter=default --reporter=json --outputFile="$reports/$project.json"
done

# One closing line for CI: the counts over every project.
node -e '
  const fs = require("fs"); let passed = 0, failed = 0, skipped = 0
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"))
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
' "$reports"
exit $status
