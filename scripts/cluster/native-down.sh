#!/usr/bin/env bash
# Stops the cluster native-up.sh started: jobs of the test user, sshd and its sessions, slurmd n1/n2,
# slurmctld, slurmdbd, MariaDB, munged, each by the pid it recorded. Fine when nothing runs.
# State (keys, accounting database, job id counter) is kept unless --wipe is given.
#
# Usage: scripts/cluster/native-down.sh [--wipe]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $EUID -eq 0 ]] || die "must run as root"
wipe=0
[[ "${1:-}" == "--wipe" ]] && wipe=1
T0=$(now_ms)

if [[ ! -d "$STATE" ]]; then
  log "nothing to stop: no $STATE"
  exit 0
fi
lock_state

# Jobs first, while slurmctld can still cancel them (their processes outlive slurmd).
if pidfile_alive "$SLURM_DIR/state/slurmctld.pid" && [[ -f "$SLURM_CONF" ]]; then
  if [[ -n "$(squeue -h -o %i 2>/dev/null)" ]]; then
    log "cancelling running jobs"
    scancel --full --user="$TEST_USER" 2>/dev/null || true
    wait_for 15 "the job queue to empty" bash -c '[[ -z "$(squeue -h -t R,CG,PD -o %i)" ]]' || true
  fi
fi

stop_sshd_sessions
stop_pidfile "$SSH_DIR/sshd.pid"
for n in "${NODES[@]}"; do stop_pidfile "$SLURM_DIR/spool/$n/slurmd.pid"; done
stop_pidfile "$SLURM_DIR/state/slurmctld.pid"
stop_pidfile "$SLURM_DIR/state/slurmdbd.pid"
stop_pidfile "$RUN_DIR/mysqld.pid" 300
stop_pidfile "$MUNGE_DIR/munged.pid"

# Anything the test user still runs (job steps left by a killed slurmd, SSH sessions) was started
# through this cluster: end it by pid.
if id -u "$TEST_USER" >/dev/null 2>&1; then
  for pid in $(ps -o pid= -u "$TEST_USER" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
fi

if ((wipe)); then
  rm -rf "$STATE" "$STATE.lock"
  log "wiped $STATE"
fi
log "$(printf 'cluster down in %d ms' $(($(now_ms) - T0)))"
