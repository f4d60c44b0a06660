#!/usr/bin/env bash
# Installs the npm workspaces (npm ci) when node_modules is missing or older than the lockfile,
# then builds the TypeScript packages (tsc -b is incremental, so a second run is fast).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "slurm-pipes: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc -b
