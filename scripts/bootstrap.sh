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
# As root, PostgreSQL runs as the postgres user; setfacl lets it reach a checkout in /root.
command -v setfacl >/dev/null || missing+=(acl)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
# Monitoring: feedback's alerting rules are checked with promtool and its tests run a real
# Prometheus scraping the services and a real Alertmanager delivering to feedback's webhook.
command -v prometheus >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
# Debian's Python modules, run as /usr/bin/python3 (a python3 earlier on PATH may lack them):
# the built-in trainers' ML libraries, ONNX for the model server's test models, and the
# generated v2 gRPC client of the interop tests.
has_python_module() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
has_python_module numpy || missing+=(python3-numpy)
has_python_module xgboost || missing+=(python3-xgboost)
has_python_module sklearn || missing+=(python3-sklearn)
has_python_module onnx || missing+=(python3-onnx)
has_python_module grpc || missing+=(python3-grpcio)
has_python_module grpc_tools || missing+=(python3-grpc-tools)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages enable system services we never use: the stack runs its own copies.
  for service in clickhouse-server postgresql nats-server prometheus prometheus-alertmanager \
    prometheus-node-exporter; do
    $SUDO service "$service" stop >/dev/null 2>&1 || true
  done
fi

echo "bootstrap: installing the pnpm workspace (pnpm $PNPM_VERSION)"
CI=true npx --yes "pnpm@$PNPM_VERSION" install --frozen-lockfile --reporter=append-only 2>&1 \
  | grep -vE '^npm warn' | tail -n 3
echo "bootstrap: done"
