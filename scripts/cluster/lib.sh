# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts that source it
# Shared by native-up.sh, native-down.sh and native-ctl.sh; sourced, never run.
# Layout of the native test cluster: every daemon is a plain background process whose config, state,
# pid file and log live under one state directory; nothing in /etc/slurm is touched.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${SLURM_PIPES_CLUSTER_STATE:-$REPO_ROOT/.state/cluster}"
TEST_PASSWORD="${SLURM_PIPES_TEST_PASSWORD:-test-password}"
TEST_PASSPHRASE="${SLURM_PIPES_TEST_PASSPHRASE:-test-passphrase}"
# Ports and user: native-up.sh saves what it used in <state>/ports.env. down and ctl always act on
# that; up takes env vars first, then the saved values (so an existing state dir keeps its ports and
# user whatever this shell's env says), then defaults. Every default port moves by
# SLURM_PIPES_CLUSTER_PORT_OFFSET (a multiple of 10), so a second cluster with its own state dir can
# run beside the first (offset 100: sshd on 2322, test user slurmpipes100).
SAVED_PORT_OFFSET="" SAVED_TEST_USER="" SAVED_SSH_PORT="" SAVED_MYSQL_PORT="" SAVED_SLURMCTLD_PORT="" SAVED_SLURMDBD_PORT=""
if [[ -f "$STATE/ports.env" ]]; then
  # shellcheck source=/dev/null
  source "$STATE/ports.env"
fi
if [[ "${CLUSTER_SCRIPT:-}" == up ]]; then
  if [[ -n "${SLURM_PIPES_CLUSTER_PORT_OFFSET:-}" && "$SLURM_PIPES_CLUSTER_PORT_OFFSET" != "$SAVED_PORT_OFFSET" ]]; then
    SAVED_TEST_USER="" SAVED_SSH_PORT="" SAVED_MYSQL_PORT="" SAVED_SLURMCTLD_PORT="" SAVED_SLURMDBD_PORT=""
  fi
  pick() { echo "${1:-${2:-$3}}"; } # env, saved, default
else
  pick() { echo "${2:-${1:-$3}}"; } # saved, env, default
fi
PORT_OFFSET="$(pick "${SLURM_PIPES_CLUSTER_PORT_OFFSET:-}" "$SAVED_PORT_OFFSET" 0)"
[[ "$PORT_OFFSET" =~ ^([0-9]*0)$ ]] || {
  echo "SLURM_PIPES_CLUSTER_PORT_OFFSET must be a multiple of 10 (got '$PORT_OFFSET')" >&2
  exit 1
}
# The user's home lives in the state dir, so a second cluster needs its own user.
default_user=slurmpipes
((PORT_OFFSET == 0)) || default_user="slurmpipes$PORT_OFFSET"
TEST_USER="$(pick "${SLURM_PIPES_TEST_USER:-}" "$SAVED_TEST_USER" "$default_user")"
SSH_PORT="$(pick "${SLURM_PIPES_SSH_PORT:-}" "$SAVED_SSH_PORT" $((2222 + PORT_OFFSET)))"
MYSQL_PORT="$(pick "${SLURM_PIPES_MYSQL_PORT:-}" "$SAVED_MYSQL_PORT" $((3307 + PORT_OFFSET)))"
SLURMCTLD_PORT="$(pick "${SLURM_PIPES_SLURMCTLD_PORT:-}" "$SAVED_SLURMCTLD_PORT" $((6817 + PORT_OFFSET)))"
SLURMDBD_PORT="$(pick "${SLURM_PIPES_SLURMDBD_PORT:-}" "$SAVED_SLURMDBD_PORT" $((6819 + PORT_OFFSET)))"
SSH_MAX_SESSIONS="${SLURM_PIPES_SSH_MAX_SESSIONS:-10}"
SSH_MAX_STARTUPS="${SLURM_PIPES_SSH_MAX_STARTUPS:-10:30:100}"
NODES=(n1 n2)
NODE_PORT_BASE=$((17000 + PORT_OFFSET)) # n1 listens on base+1, n2 on base+2
CLUSTER_NAME=slurmpipes

MUNGE_DIR="$STATE/munge"
MUNGE_SOCKET="$MUNGE_DIR/munged.sock"
MYSQL_DIR="$STATE/mysql"
MYSQL_SOCKET="$MYSQL_DIR/mysqld.sock"
SLURM_DIR="$STATE/slurm"
SLURM_CONF="$SLURM_DIR/etc/slurm.conf"
SLURMDBD_CONF="$SLURM_DIR/etc/slurmdbd.conf"
SSH_DIR="$STATE/ssh"
SSHD_CONFIG="$SSH_DIR/sshd_config"
SSHD_LOG="$SSH_DIR/sshd.log"
CLIENT_DIR="$STATE/client" # what a test process (root) uses to log in as the test user
HOME_ROOT="$STATE/home"
TEST_HOME="$HOME_ROOT/$TEST_USER"
RUN_DIR="$STATE/run" # pid files
ENV_FILE="$STATE/cluster.env"

export SLURM_CONF

log() { printf '[cluster] %s\n' "$*" >&2; }
die() {
  printf '[cluster] error: %s\n' "$*" >&2
  exit 1
}

# Milliseconds since the epoch, for the timings printed by up/down.
now_ms() { date +%s%3N; }

# Alive means present and not a zombie: init may reap a dead daemon late (state Z).
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" ]] || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

pidfile_pid() { [[ -f "$1" ]] && tr -dc '0-9' <"$1" || true; }

pidfile_alive() { pid_alive "$(pidfile_pid "$1")"; }

# Stops the process named by a pid file: TERM, then KILL after a grace period in tenths of a second.
stop_pidfile() {
  local pidfile="$1" grace="${2:-50}" pid i
  pid="$(pidfile_pid "$pidfile")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        pid_alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidfile"
}

# Polls a command every 50 ms until it succeeds or the timeout (seconds) passes.
wait_for() {
  local timeout="$1" what="$2" deadline
  shift 2
  deadline=$(($(now_ms) + timeout * 1000))
  until "$@" >/dev/null 2>&1; do
    if (($(now_ms) > deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.05
  done
}

# A TCP connect to 127.0.0.1 succeeds (bash's /dev/tcp, so no iproute2 or netcat needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_port() { echo $((NODE_PORT_BASE + ${1#n})); }

# Ends every SSH connection and leaves the listener running, so a client sees its connection drop.
# Each connection is a privileged monitor (child of the listener) and a session process running as the
# user (child of the monitor, which outlives a killed monitor): kill both. Commands the session ran are
# left alone, as after a network failure.
stop_sshd_sessions() {
  local listener monitors=() sessions=() pid
  listener="$(pidfile_pid "$SSH_DIR/sshd.pid")"
  pid_alive "$listener" || return 0
  mapfile -t monitors < <(ps -o pid= --ppid "$listener" 2>/dev/null)
  for pid in "${monitors[@]}"; do
    mapfile -t -O "${#sessions[@]}" sessions < <(ps -o pid=,comm= --ppid "$pid" 2>/dev/null | awk '$2 == "sshd" { print $1 }')
  done
  for pid in "${monitors[@]}" "${sessions[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# Starts slurmd for one node (it daemonizes) and waits for its port.
start_slurmd() {
  local n="$1"
  if ! pidfile_alive "$SLURM_DIR/spool/$n/slurmd.pid"; then
    require_free_port "$(node_port "$n")" "slurmd $n"
    slurmd -N "$n" </dev/null >>"$SLURM_DIR/log/slurmd-$n.out" 2>&1 9>&-
  fi
}
wait_slurmd() {
  wait_for 30 "slurmd $1" port_open "$(node_port "$1")" || die "slurmd $1 did not start, see $SLURM_DIR/log/slurmd-$1.log"
}

start_sshd() {
  if ! pidfile_alive "$SSH_DIR/sshd.pid"; then
    require_free_port "$SSH_PORT" sshd
    /usr/sbin/sshd -t -f "$SSHD_CONFIG" || die "invalid $SSHD_CONFIG"
    /usr/sbin/sshd -f "$SSHD_CONFIG" -E "$SSHD_LOG" </dev/null 9>&-
    wait_for 10 "sshd port $SSH_PORT" port_open "$SSH_PORT" || die "sshd did not start, see $SSHD_LOG"
  fi
}

# Serializes up/down/ctl on one state directory (another engineer's test run may share the tree).
# Daemons are started with 9>&- so they do not inherit (and hold) the lock.
lock_state() {
  mkdir -p "$(dirname "$STATE")"
  exec 9>"$STATE.lock"
  if ! flock -w 120 9; then die "another native-up/down/ctl holds $STATE.lock for over 120 s"; fi
}

# Before starting a daemon: its port must be free, or something else (a stock sshd, another cluster)
# would answer in its place.
require_free_port() {
  if port_open "$1"; then die "port $1 ($2) is already in use by a process this cluster did not start"; fi
}
