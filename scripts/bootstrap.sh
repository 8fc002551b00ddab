#!/usr/bin/env bash
# Installs everything Argmax needs on a fresh machine of this kind (Debian, root, Node 20):
# the system packages the local stack runs, then the pnpm workspace. Safe to run again:
# it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
[ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server)
command -v clickhouse-client >/dev/null || missing+=(clickhouse-client)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
# The built-in trainers are Python workloads on Debian's interpreter and ML libraries (another
# python3 may come first on PATH, so ask Debian's own interpreter).
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
/usr/bin/python3 -c 'import xgboost' >/dev/null 2>&1 || missing+=(python3-xgboost)
/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1 || missing+=(python3-sklearn)
/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1 || missing+=(python3-onnx)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages enable system services we never use: the stack runs its own copies.
  for service in clickhouse-server postgresql nats-server; do
    $SUDO service "$service" stop >/dev/null 2>&1 || true
  done
fi

echo "bootstrap: installing the pnpm workspace (pnpm $PNPM_VERSION)"
CI=true npx --yes "pnpm@$PNPM_VERSION" install --frozen-lockfile --reporter=append-only 2>&1 \
  | grep -vE '^npm warn' | tail -n 3
echo "bootstrap: done"
