#!/usr/bin/env bash
# Everything the test suite needs, idempotently: npm workspaces, a Python virtual environment
# with the real dagster and dagster-pipes from PyPI, the Python package in development mode,
# and the Debian packages for the test cluster (sshd, Slurm, munge, MariaDB).
# Re-running it when all is in place takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/ensure-node-deps.sh

venv=$root/.venv
dagster_spec='dagster==1.13.*'
pipes_spec='dagster-pipes==1.13.*'
if [[ ! -x $venv/bin/python ]]; then
  echo "slurm-pipes: creating $venv" >&2
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import dagster, dagster_pipes, dagster_slurm_pipes, pytest' 2>/dev/null; then
  echo "slurm-pipes: installing dagster, dagster-pipes and dagster-slurm-pipes into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$dagster_spec" "$pipes_spec" pytest
  "$venv/bin/pip" install --quiet --disable-pip-version-check -e packages/dagster-slurm-pipes
fi

if [[ -x scripts/cluster/install-packages.sh ]]; then
  bash scripts/cluster/install-packages.sh
fi
