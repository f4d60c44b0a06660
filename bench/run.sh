#!/usr/bin/env bash
# npm run bench: the cost of the bridge against dagster-slurm, side by side in one run.
#
# 1. brings up its own native test cluster (scripts/cluster/native-up.sh, own state dir and ports);
# 2. makes bench/.venv with the same Dagster as the test venv plus the newest dagster-slurm (PyPI);
# 3. deploys one Python environment with dagster-pipes on the cluster, as the cluster user: both
#    systems run their payloads with it (dagster-slurm's pre-deployed-environment path; slurm-pipes'
#    pre_deployed_env_path), so neither packs or ships an environment;
# 4. builds the bridge's CLI bundle (packages/bridge/dist/slurm-pipes.js), the file users run;
# 5. runs bench/bench.py (all scenarios, both systems, interleaved), writes bench-results/benchmarks.json;
# 6. generates docs/benchmarks.md and bench/benchmarks.svg from it (bench/report.py);
# 7. stops the cluster (SLURM_PIPES_BENCH_KEEP_CLUSTER=1 leaves it up).
#
# Needs root on Debian 12 (the native cluster). Takes about 15 minutes on 2 cores.
# Env: SLURM_PIPES_BENCH_REPS (5), SLURM_PIPES_BENCH_TWENTY_REPS (3), SLURM_PIPES_BENCH_BASELINE_REPS (3),
#      SLURM_PIPES_BENCH_MAX_CONCURRENT (4, the multiprocess executor's limit in the twenty-asset run),
#      SLURM_PIPES_BENCH_STATE (<repo>/.state/cluster-bench), SLURM_PIPES_BENCH_PORT_OFFSET (3000),
#      SLURM_PIPES_BENCH_DAGSTER (default: the version in <repo>/.venv, else 1.13.29),
#      SLURM_PIPES_BENCH_OUTPUT (bench-results/benchmarks.json).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
T0=$(date +%s)
say() { printf '[bench] %s\n' "$*" >&2; }

[[ $EUID -eq 0 ]] || {
  say "must run as root: the benchmark brings up a native Slurm cluster (scripts/cluster/native-up.sh)"
  exit 1
}

STATE="${SLURM_PIPES_BENCH_STATE:-$REPO/.state/cluster-bench}"
OFFSET="${SLURM_PIPES_BENCH_PORT_OFFSET:-3000}"
OUTPUT="${SLURM_PIPES_BENCH_OUTPUT:-$REPO/bench-results/benchmarks.json}"
WORK="$REPO/.state/bench"
mkdir -p "$WORK"

# --- Node dependencies (the bridge is bundled from source below, so no build is needed) ----------
[[ -x node_modules/.bin/esbuild ]] || bash scripts/ensure-node-deps.sh

# --- cluster ------------------------------------------------------------------------------------
say "bringing up the bench cluster in $STATE (port offset $OFFSET)"
SLURM_PIPES_CLUSTER_STATE="$STATE" SLURM_PIPES_CLUSTER_PORT_OFFSET="$OFFSET" bash scripts/cluster/native-up.sh
CLUSTER_ENV="$STATE/cluster.env"
stop_cluster() {
  if [[ "${SLURM_PIPES_BENCH_KEEP_CLUSTER:-0}" != 1 ]]; then
    SLURM_PIPES_CLUSTER_STATE="$STATE" bash scripts/cluster/native-down.sh || true
  fi
}
trap stop_cluster EXIT
CLUSTER_USER="$(sed -n 's/^SLURM_SSH_USER=//p' "$CLUSTER_ENV")"
CLUSTER_HOME="$(getent passwd "$CLUSTER_USER" | cut -d: -f6)"

# --- the Dagster side: bench/.venv ---------------------------------------------------------------
DAGSTER_VERSION="${SLURM_PIPES_BENCH_DAGSTER:-}"
if [[ -z "$DAGSTER_VERSION" && -x .venv/bin/python ]]; then
  DAGSTER_VERSION="$(.venv/bin/python -c 'import dagster; print(dagster.__version__)' 2>/dev/null || true)"
fi
DAGSTER_VERSION="${DAGSTER_VERSION:-1.13.29}"
VENV="$REPO/bench/.venv"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
say "bench/.venv: dagster $DAGSTER_VERSION and the newest dagster-slurm"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade \
  "dagster==$DAGSTER_VERSION" "dagster-pipes==$DAGSTER_VERSION" dagster-slurm
"$VENV/bin/python" -c 'import dagster, dagster_slurm' # fails loudly if the install did not work

# --- the pre-deployed environment on the cluster ---------------------------------------------------
DEPLOYED="$CLUSTER_HOME/bench-env"
as_user() { runuser -u "$CLUSTER_USER" -- env HOME="$CLUSTER_HOME" PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
if ! as_user "$DEPLOYED/env/bin/python" -c "import sys, dagster_pipes; from importlib.metadata import version; sys.exit(version('dagster-pipes') != '$DAGSTER_VERSION')" 2>/dev/null; then
  say "deploying $DEPLOYED (python3 + dagster-pipes $DAGSTER_VERSION, as $CLUSTER_USER)"
  rm -rf "$DEPLOYED"
  as_user python3 -m venv "$DEPLOYED/env"
  as_user "$DEPLOYED/env/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    "dagster-pipes==$DAGSTER_VERSION"
fi
# dagster-slurm sources <env>/activate.sh and runs <env>/env/bin/python (its pre-deployed layout).
as_user sh -c "cat > '$DEPLOYED/activate.sh'" <<EOF
# The benchmark's pre-deployed environment (written by bench/run.sh).
export VIRTUAL_ENV='$DEPLOYED/env'
export PATH="\$VIRTUAL_ENV/bin:\$PATH"
EOF

# --- the bridge: the same bundle users run (packages/bridge/dist/slurm-pipes.js) -------------------
bash scripts/ensure-node-deps.sh >/dev/null
BRIDGE_JS="$REPO/packages/bridge/dist/slurm-pipes.js"
NODE="$(command -v node)"
BRIDGE="[\"$NODE\",\"--import\",\"$REPO/bench/usage-recorder.mjs\",\"$BRIDGE_JS\"]"

# Unix socket paths must stay short: the mux daemon's and the ControlMaster's directories go in /tmp.
SOCKETS="$(mktemp -d /tmp/slurm-pipes-bench.XXXXXX)"
trap 'rm -rf "$SOCKETS"; stop_cluster' EXIT

say "running the benchmark (about 15 minutes)"
"$VENV/bin/python" bench/bench.py --output "$OUTPUT" --cluster-env "$CLUSTER_ENV" --deployed-env "$DEPLOYED" \
  --bridge "$BRIDGE" --mux-dir "$SOCKETS/mux" --control-dir "$SOCKETS/cm" \
  --reps "${SLURM_PIPES_BENCH_REPS:-5}" --twenty-reps "${SLURM_PIPES_BENCH_TWENTY_REPS:-3}" \
  --baseline-reps "${SLURM_PIPES_BENCH_BASELINE_REPS:-3}" --max-concurrent "${SLURM_PIPES_BENCH_MAX_CONCURRENT:-4}"

"$VENV/bin/python" bench/report.py "$OUTPUT" --markdown docs/benchmarks.md --svg bench/benchmarks.svg
say "done in $(($(date +%s) - T0)) s: $OUTPUT, docs/benchmarks.md, bench/benchmarks.svg"
