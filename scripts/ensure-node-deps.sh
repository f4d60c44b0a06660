#!/usr/bin/env bash
# Installs the npm workspaces (npm ci) when node_modules is missing or older than the lockfile,
# then builds the TypeScript packages (tsc -b is incremental, so a second run is fast) and bundles
# the CLI into packages/bridge/dist/slurm-pipes.js (esbuild, well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "slurm-pipes: installing npm dependencies" >&2
  # npm ci refuses this lockfile: npm 11 leaves other platforms' optional packages (Biome's
  # binaries) out of it and then reports them missing (npm/cli#8320). npm install honours the
  # same locked versions and installs this platform's binary.
  npm install --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc -b
node scripts/bundle-bridge.mjs
