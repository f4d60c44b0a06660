#!/usr/bin/env bash
# Brings up a real Slurm 22.05 cluster and an SSH login node on loopback, for the integration tests:
# munged, MariaDB (127.0.0.1:3307), slurmdbd, slurmctld, slurmd n1 and n2 (ports 17001-17002) and
# sshd (127.0.0.1:2222), all plain background processes under one state directory, plus a test user.
# Idempotent: what already runs is kept (restarted only when its config changed). Ends by writing
# <state>/cluster.env and checking that a job submitted over SSH completes and shows in sacct.
#
# Usage: scripts/cluster/native-up.sh [--fresh]    (--fresh: native-down.sh --wipe first)
# Env: SLURM_PIPES_CLUSTER_STATE (default <repo>/.state/cluster), SLURM_PIPES_TEST_USER (slurmpipes),
#      SLURM_PIPES_SSH_MAX_SESSIONS (10), SLURM_PIPES_SSH_MAX_STARTUPS (10:30:100),
#      SLURM_PIPES_SLURMD_TIMEOUT (30), SLURM_PIPES_CLUSTER_PORT_OFFSET (0; a multiple of 10 added to
#      every port, for a second cluster beside the first), or single ports: SLURM_PIPES_SSH_PORT (2222),
#      SLURM_PIPES_MYSQL_PORT (3307), SLURM_PIPES_SLURMCTLD_PORT (6817), SLURM_PIPES_SLURMDBD_PORT (6819).
#      slurmd n1/n2 listen on 17001/17002 (+ offset).
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
CLUSTER_SCRIPT=up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $EUID -eq 0 ]] || die "must run as root (it starts slurmd and sshd and creates a user)"
if [[ "${1:-}" == "--fresh" ]]; then "$REPO_ROOT/scripts/cluster/native-down.sh" --wipe; fi
lock_state

T0=$(now_ms)
LAST=$T0
step() {
  local t
  t=$(now_ms)
  log "$(printf '%-34s %6d ms' "$1" $((t - LAST)))"
  LAST=$t
}

# --- packages -------------------------------------------------------------------------------
"$REPO_ROOT/scripts/cluster/install-packages.sh"
LAST=$(now_ms)

# --- directories, user, keys -----------------------------------------------------------------
mkdir -p "$STATE" "$MUNGE_DIR" "$MYSQL_DIR" "$SLURM_DIR"/{etc,state,log} "$SSH_DIR" "$CLIENT_DIR" \
  "$HOME_ROOT" "$RUN_DIR" /run/sshd
for n in "${NODES[@]}"; do mkdir -p "$SLURM_DIR/spool/$n"; done
# The test user reaches its home, the munge socket and slurm.conf through these; the state dir may sit
# in a checkout the user can't read, so open the path to it (search permission only).
d="$STATE"
while [[ "$d" != "/" ]]; do
  chmod o+x "$d" 2>/dev/null || true
  d="$(dirname "$d")"
done
chmod 755 "$STATE" "$SLURM_DIR" "$SLURM_DIR/etc" "$HOME_ROOT"
chmod 700 "$CLIENT_DIR" "$MYSQL_DIR" "$SSH_DIR" "$SLURM_DIR/state"

if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  useradd --no-create-home --home-dir "$TEST_HOME" --shell /bin/bash --user-group "$TEST_USER"
elif [[ "$(getent passwd "$TEST_USER" | cut -d: -f6)" != "$TEST_HOME" ]]; then
  usermod --home "$TEST_HOME" "$TEST_USER"
fi
mkdir -p "$TEST_HOME/.ssh"
chown "$TEST_USER:" "$TEST_HOME" "$TEST_HOME/.ssh"
chmod 755 "$TEST_HOME" # slurmd (root) and job steps (the user) both read it
chmod 700 "$TEST_HOME/.ssh"
# With UsePAM no, an account without a password is locked and even key login fails.
echo "$TEST_USER:$TEST_PASSWORD" | chpasswd

KEY="$CLIENT_DIR/id_ed25519"
PASSPHRASE_KEY="$CLIENT_DIR/id_ed25519_passphrase"
PASSWORD_FILE="$CLIENT_DIR/password"
KNOWN_HOSTS="$CLIENT_DIR/known_hosts"
[[ -f "$KEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "$TEST_USER@slurm-pipes-test" -f "$KEY"
[[ -f "$PASSPHRASE_KEY" ]] ||
  ssh-keygen -q -t ed25519 -N "$TEST_PASSPHRASE" -C "$TEST_USER@slurm-pipes-test-passphrase" -f "$PASSPHRASE_KEY"
printf '%s' "$TEST_PASSWORD" >"$PASSWORD_FILE"
chmod 600 "$KEY" "$PASSPHRASE_KEY" "$PASSWORD_FILE"
cat "$KEY.pub" "$PASSPHRASE_KEY.pub" >"$TEST_HOME/.ssh/authorized_keys"
chown "$TEST_USER:" "$TEST_HOME/.ssh/authorized_keys"
chmod 600 "$TEST_HOME/.ssh/authorized_keys"
[[ -f "$SSH_DIR/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/ssh_host_ed25519_key"
step "directories, user, keys"

# Writes stdin to a file when its content differs; returns 0 when it changed.
write_if_changed() {
  local file="$1" mode="$2" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$file"
}

# --- munge -----------------------------------------------------------------------------------
if [[ ! -s "$MUNGE_DIR/munge.key" ]]; then
  rm -f "$MUNGE_DIR/munge.key"
  mungekey --create --keyfile="$MUNGE_DIR/munge.key"
fi
chown -R munge: "$MUNGE_DIR"
# munged wants the socket's directory searchable by all (slurm clients run as the test user).
chmod 711 "$MUNGE_DIR"
chmod 600 "$MUNGE_DIR/munge.key"
if ! pidfile_alive "$MUNGE_DIR/munged.pid"; then
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  runuser -u munge -- munged --socket="$MUNGE_SOCKET" --key-file="$MUNGE_DIR/munge.key" \
    --log-file="$MUNGE_DIR/munged.log" --pid-file="$MUNGE_DIR/munged.pid" --seed-file="$MUNGE_DIR/munged.seed" 9>&-
  wait_for 10 "munged socket" test -S "$MUNGE_SOCKET" || die "munged did not start, see $MUNGE_DIR/munged.log"
fi
step "munged"

# --- MariaDB (slurmdbd's storage) ------------------------------------------------------------
MYSQL_DATA="$MYSQL_DIR/data"
if [[ ! -d "$MYSQL_DATA/mysql" ]]; then
  rm -rf "$MYSQL_DATA"
  mariadb-install-db --no-defaults --user=root --datadir="$MYSQL_DATA" \
    --auth-root-authentication-method=socket --skip-test-db >"$MYSQL_DIR/install.log" 2>&1 ||
    die "mariadb-install-db failed, see $MYSQL_DIR/install.log"
fi
# shellcheck disable=SC2120 # called with -e through wait_for
mysql_root() { mariadb --no-defaults --socket="$MYSQL_SOCKET" -uroot "$@"; }
if ! pidfile_alive "$RUN_DIR/mysqld.pid"; then
  require_free_port "$MYSQL_PORT" MariaDB
  rm -f "$MYSQL_SOCKET"
  setsid mariadbd --no-defaults --user=root --datadir="$MYSQL_DATA" --socket="$MYSQL_SOCKET" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$MYSQL_DIR/mysqld.pid" \
    --log-error="$MYSQL_DIR/mysqld.log" --innodb-buffer-pool-size=64M --skip-log-bin \
    </dev/null >/dev/null 2>&1 9>&- &
  echo $! >"$RUN_DIR/mysqld.pid"
  wait_for 60 "MariaDB" mysql_root -e 'select 1' || die "MariaDB did not start, see $MYSQL_DIR/mysqld.log"
fi
mysql_root <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
step "MariaDB"

# --- Slurm configuration ---------------------------------------------------------------------
CPUS="$(nproc)"
MEM_MIB=$(($(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) / ${#NODES[@]}))
SLURMD_TIMEOUT="${SLURM_PIPES_SLURMD_TIMEOUT:-30}"
slurm_changed=0
write_if_changed "$SLURM_CONF" 644 <<EOF && slurm_changed=1
# Written by scripts/cluster/native-up.sh; edits are overwritten.
ClusterName=$CLUSTER_NAME
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
SlurmctldPidFile=$SLURM_DIR/state/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/spool/%n/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups anywhere: the machine has no systemd and may run in a container.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
# Without cgroups nothing enforces --mem/--mem-per-cpu; this makes slurmstepd kill a step whose sampled
# RSS (every JobAcctGatherFrequency) exceeds its allocation. It needs memory to be a consumable resource
# (CR_Core_Memory below): Slurm only puts allocated memory in the job's credential then.
JobAcctGatherParams=OverMemoryKill
SelectType=select/cons_tres
# Memory is allocated too (for OverMemoryKill above). A job that asks for none gets its CPUs' share of the
# node's memory, so jobs pack onto nodes by cores exactly as with CR_Core.
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((MEM_MIB / CPUS))
SchedulerType=sched/backfill
# The defaults (batch_sched_delay=3, bf_interval=30) make every test wait seconds.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$SLURMDBD_PORT
# slurmctld ignores AuthInfo for its link to slurmdbd; without this sacctmgr retries for minutes.
AccountingStoragePass=$MUNGE_SOCKET
ReturnToService=2
SlurmdTimeout=$SLURMD_TIMEOUT
MpiDefault=none
MailProg=/bin/true
KillWait=5
MinJobAge=300
NodeName=n[1-${#NODES[@]}] NodeAddr=127.0.0.1 Port=$((NODE_PORT_BASE + 1))-$((NODE_PORT_BASE + ${#NODES[@]})) CPUs=$CPUS RealMemory=$MEM_MIB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
write_if_changed "$SLURMDBD_CONF" 600 <<EOF && slurm_changed=1
# Written by scripts/cluster/native-up.sh; edits are overwritten.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort=$SLURMDBD_PORT
SlurmUser=root
PidFile=$SLURM_DIR/state/slurmdbd.pid
LogFile=$SLURM_DIR/log/slurmdbd.log
DebugLevel=info
# 127.0.0.1 and a port: StorageHost=localhost would make slurmdbd use /run/mysqld/mysqld.sock.
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
if ((slurm_changed)); then
  log "Slurm configuration changed: restarting any running Slurm daemons"
  for n in "${NODES[@]}"; do stop_pidfile "$SLURM_DIR/spool/$n/slurmd.pid"; done
  stop_pidfile "$SLURM_DIR/state/slurmctld.pid"
  stop_pidfile "$SLURM_DIR/state/slurmdbd.pid"
fi

# --- slurmdbd, accounting registration, slurmctld, slurmd ------------------------------------
if ! pidfile_alive "$SLURM_DIR/state/slurmdbd.pid"; then
  require_free_port "$SLURMDBD_PORT" slurmdbd
  slurmdbd </dev/null >>"$SLURM_DIR/log/slurmdbd.out" 2>&1 9>&- # daemonizes; -f is not needed (SLURM_CONF's dir)
  wait_for 30 "slurmdbd port $SLURMDBD_PORT" port_open "$SLURMDBD_PORT" ||
    die "slurmdbd did not start, see $SLURM_DIR/log/slurmdbd.log"
fi
step "slurmdbd"

if ! sacctmgr -nP show assoc where user="$TEST_USER" format=cluster,account,user 2>/dev/null |
  grep -qx "$CLUSTER_NAME|$TEST_USER|$TEST_USER"; then
  sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || true # fails when it exists
  sacctmgr -i add account "$TEST_USER" cluster="$CLUSTER_NAME" description=slurm-pipes-tests \
    organization=slurm-pipes >/dev/null || true
  sacctmgr -i add user "$TEST_USER" account="$TEST_USER" cluster="$CLUSTER_NAME" >/dev/null || true
  sacctmgr -nP show assoc where user="$TEST_USER" format=cluster,account,user |
    grep -qx "$CLUSTER_NAME|$TEST_USER|$TEST_USER" || die "could not register $TEST_USER in slurmdbd"
fi
step "accounting (cluster, account, user)"

if ! pidfile_alive "$SLURM_DIR/state/slurmctld.pid"; then
  require_free_port "$SLURMCTLD_PORT" slurmctld
  slurmctld </dev/null >>"$SLURM_DIR/log/slurmctld.out" 2>&1 9>&-
  wait_for 30 "slurmctld" scontrol ping || die "slurmctld did not start, see $SLURM_DIR/log/slurmctld.log"
fi
step "slurmctld"

for n in "${NODES[@]}"; do start_slurmd "$n"; done
for n in "${NODES[@]}"; do wait_slurmd "$n"; done
step "slurmd ${NODES[*]}"

# --- sshd ------------------------------------------------------------------------------------
# LogLevel VERBOSE logs every authentication ("Accepted publickey for ..."); tests count them.
# StrictModes off: the state dir may sit below a group-writable checkout.
sshd_changed=0
write_if_changed "$SSHD_CONFIG" 600 <<EOF && sshd_changed=1
# Written by scripts/cluster/native-up.sh; edits are overwritten.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $SSH_DIR/sshd.pid
LogLevel VERBOSE
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers $TEST_USER
MaxSessions $SSH_MAX_SESSIONS
MaxStartups $SSH_MAX_STARTUPS
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
SetEnv SLURM_CONF=$SLURM_CONF
PrintMotd no
PrintLastLog no
EOF
if ((sshd_changed)) && pidfile_alive "$SSH_DIR/sshd.pid"; then
  log "sshd configuration changed: restarting the listener"
  stop_pidfile "$SSH_DIR/sshd.pid"
fi
start_sshd
ssh-keyscan -p "$SSH_PORT" -t ed25519 127.0.0.1 2>/dev/null >"$KNOWN_HOSTS.tmp"
[[ -s "$KNOWN_HOSTS.tmp" ]] || die "ssh-keyscan found no host key on 127.0.0.1:$SSH_PORT"
mv -f "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"
step "sshd"

cat >"$STATE/ports.env" <<EOF
# Written by native-up.sh: what this state dir's cluster uses (see lib.sh).
SAVED_PORT_OFFSET=$PORT_OFFSET
SAVED_TEST_USER=$TEST_USER
SAVED_SSH_PORT=$SSH_PORT
SAVED_MYSQL_PORT=$MYSQL_PORT
SAVED_SLURMCTLD_PORT=$SLURMCTLD_PORT
SAVED_SLURMDBD_PORT=$SLURMDBD_PORT
EOF

# --- env file --------------------------------------------------------------------------------
write_if_changed "$ENV_FILE" 644 <<EOF || true
# Written by scripts/cluster/native-up.sh: how to reach this cluster. KEY=value lines, no quoting;
# load with 'set -a; . $ENV_FILE; set +a' or point SLURM_PIPES_CLUSTER_ENV at this file.
SLURM_PIPES_CLUSTER_KIND=native
SLURM_PIPES_CLUSTER_STATE=$STATE
SLURM_SSH_HOST=127.0.0.1
SLURM_SSH_PORT=$SSH_PORT
SLURM_SSH_USER=$TEST_USER
SLURM_SSH_KEY=$KEY
SLURM_SSH_PASSPHRASE_KEY=$PASSPHRASE_KEY
SLURM_SSH_PASSPHRASE=$TEST_PASSPHRASE
SLURM_SSH_PASSWORD_FILE=$PASSWORD_FILE
SLURM_SSH_KNOWN_HOSTS=$KNOWN_HOSTS
SLURM_PIPES_SSHD_LOG=$SSHD_LOG
SLURM_PIPES_SSH_MAX_SESSIONS=$SSH_MAX_SESSIONS
SLURM_PIPES_SLURM_CONF=$SLURM_CONF
SLURM_PIPES_SLURM_PARTITION=debug
SLURM_PIPES_SLURM_NODES=$(
  IFS=,
  echo "${NODES[*]}"
)
EOF

# --- readiness: nodes idle, a job submitted over SSH completes and shows in sacct --------------
# Idle on a fresh cluster; a re-run may find other test runs' jobs on the nodes, so busy counts too.
# A '*' suffix (not responding) or down/drain does not.
nodes_ready() {
  local ready
  ready="$(sinfo -h -N -o '%N %t' 2>/dev/null | awk '$2 ~ /^(idle|mix|alloc|comp)$/ { n++ } END { print n + 0 }')"
  ((ready == ${#NODES[@]}))
}
wait_for 60 "both nodes up" nodes_ready || {
  sinfo -N >&2 || true
  die "nodes not up, see $SLURM_DIR/log"
}
step "nodes up ($(sinfo -h -N -o %t | sort | uniq -c | xargs))"

SSH_OPTS=(-i "$KEY" -p "$SSH_PORT" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$KNOWN_HOSTS"
  -o StrictHostKeyChecking=yes -o ConnectTimeout=10)
jobid="$(ssh "${SSH_OPTS[@]}" "$TEST_USER@127.0.0.1" sbatch --parsable --output=/dev/null --wrap true)" ||
  die "sbatch over SSH failed, see $SSHD_LOG"
jobid="${jobid%%;*}"
step "ssh login + sbatch (job $jobid)"
job_completed_in_sacct() { [[ "$(sacct -n -X -P -j "$jobid" -o State 2>/dev/null)" == COMPLETED* ]]; }
wait_for 60 "job $jobid COMPLETED in sacct" job_completed_in_sacct || {
  scontrol show job "$jobid" >&2 || true
  die "job $jobid did not complete, see $SLURM_DIR/log"
}
step "job COMPLETED in sacct"

log "$(printf '%-34s %6d ms' "cluster up, total" $(($(now_ms) - T0)))"
log "env file: $ENV_FILE"
grep -v '^#' "$ENV_FILE"
