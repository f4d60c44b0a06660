#!/usr/bin/env bash
# Entrypoint of the slurm-pipes test image: one role per container.
#   controller      munged, MariaDB, slurmdbd (cluster, account and user registered), slurmctld
#   compute NODE    munged, slurmd -N NODE (NODE one of n1..n<SLURM_NODE_COUNT>)
#   login           munged, sshd on port 22 (Slurm clients; the test user logs in here)
# Each role prints "slurm-pipes: <role> ready" once it serves, then reaps children until stopped.
# Env (the same values in every container of a cluster, since slurm.conf must agree):
#   MUNGE_KEY_B64      shared munge key, base64 (default: the key baked into the image)
#   SLURM_NODE_COUNT   compute nodes n1..nN (2)        SLURM_CPUS  CPUs per node (nproc)
#   SLURM_REAL_MEMORY  MiB per node (MemTotal / node count)
#   SLURM_CONTROLLER   controller's hostname (controller)
# Login only: TEST_PASSWORD (test-password), TEST_PASSPHRASE (test-passphrase),
#   SSH_MAX_SESSIONS (10), SSH_MAX_STARTUPS (10:30:100). Client keys for the tests are written to
#   /etc/slurm-pipes/client/{id_ed25519,id_ed25519_passphrase}; sshd logs to /var/log/sshd.log.
set -euo pipefail

ROLE="${1:-login}"
TEST_USER="${TEST_USER:-slurmpipes}"
CONTROLLER="${SLURM_CONTROLLER:-controller}"
NODE_COUNT="${SLURM_NODE_COUNT:-2}"
CPUS="${SLURM_CPUS:-$(nproc)}"
REAL_MEMORY="${SLURM_REAL_MEMORY:-$(($(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) / NODE_COUNT))}"

log() { printf 'slurm-pipes: %s\n' "$*"; }
die() {
  log "error: $*"
  exit 1
}
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_for() {
  local tries="$1" what="$2"
  shift 2
  for ((i = 0; i < tries; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out waiting for $what"
}

write_slurm_conf() {
  cat >/etc/slurm/slurm.conf <<EOF
# Written by the slurm-pipes entrypoint.
ClusterName=slurmpipes
SlurmctldHost=$CONTROLLER
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
# No cgroups: containers here get no cgroup delegation.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
# Without cgroups nothing enforces --mem; slurmstepd kills a step whose sampled RSS exceeds its
# allocation. Needs memory as a consumable resource (CR_Core_Memory) so the allocation is known.
JobAcctGatherParams=OverMemoryKill
SelectType=select/cons_tres
# A job that asks for no memory gets its CPUs' share of the node's, so jobs still pack by cores.
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((REAL_MEMORY / CPUS))
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$CONTROLLER
AccountingStoragePort=6819
ReturnToService=2
SlurmdTimeout=30
MpiDefault=none
MailProg=/bin/true
KillWait=5
MinJobAge=300
NodeName=n[1-$NODE_COUNT] CPUs=$CPUS RealMemory=$REAL_MEMORY State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munged() {
  if [[ -n "${MUNGE_KEY_B64:-}" ]]; then
    base64 -d <<<"$MUNGE_KEY_B64" >/etc/munge/munge.key
    chown munge: /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
  fi
  runuser -u munge -- munged
  wait_for 100 munged test -S /run/munge/munge.socket.2
}

start_controller() {
  mkdir -p /run/mysqld
  if [[ ! -d /var/lib/mysql/mysql ]]; then
    mariadb-install-db --user=root --datadir=/var/lib/mysql --auth-root-authentication-method=socket \
      --skip-test-db >/var/log/mariadb-install.log 2>&1
  fi
  mariadbd --user=root --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock --bind-address=127.0.0.1 \
    --port=3306 --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M \
    --log-error=/var/log/mariadb.log &
  wait_for 600 MariaDB mariadb --socket=/run/mysqld/mysqld.sock -e 'select 1'
  mariadb --socket=/run/mysqld/mysqld.sock <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
  cat >/etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
  chmod 600 /etc/slurm/slurmdbd.conf
  slurmdbd
  wait_for 300 slurmdbd port_open 127.0.0.1 6819
  sacctmgr -i add cluster slurmpipes >/dev/null || true
  sacctmgr -i add account "$TEST_USER" cluster=slurmpipes description=slurm-pipes-tests \
    organization=slurm-pipes >/dev/null || true
  sacctmgr -i add user "$TEST_USER" account="$TEST_USER" cluster=slurmpipes >/dev/null || true
  # slurmctld resolves every NodeName at start and spends 10 s on each one not yet in DNS, which
  # happens when the compute containers start together with this one.
  for ((n = 1; n <= NODE_COUNT; n++)); do wait_for 600 "DNS name n$n" getent hosts "n$n"; done
  slurmctld
  wait_for 300 slurmctld scontrol ping
}

start_compute() {
  local node="$1"
  [[ "$node" =~ ^n[0-9]+$ ]] || die "compute needs a node name such as n1 (got '$node')"
  slurmd -N "$node"
  wait_for 300 "slurmd $node" port_open 127.0.0.1 6818
}

start_login() {
  local client=/etc/slurm-pipes/client home="/home/$TEST_USER"
  mkdir -p "$client" "$home/.ssh"
  chmod 755 /home # may be a bind mount of a private temporary directory; job steps run as the user
  chown "$TEST_USER:" "$home" "$home/.ssh"
  chmod 755 "$home"
  chmod 700 "$home/.ssh" "$client"
  echo "$TEST_USER:${TEST_PASSWORD:-test-password}" | chpasswd
  [[ -f "$client/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C "$TEST_USER@slurm-pipes-test" -f "$client/id_ed25519"
  [[ -f "$client/id_ed25519_passphrase" ]] || ssh-keygen -q -t ed25519 -N "${TEST_PASSPHRASE:-test-passphrase}" \
    -C "$TEST_USER@slurm-pipes-test-passphrase" -f "$client/id_ed25519_passphrase"
  cat "$client/id_ed25519.pub" "$client/id_ed25519_passphrase.pub" >"$home/.ssh/authorized_keys"
  chown "$TEST_USER:" "$home/.ssh/authorized_keys"
  chmod 600 "$home/.ssh/authorized_keys"
  [[ -f /etc/ssh/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
  cat >/etc/ssh/sshd_config <<EOF
# Written by the slurm-pipes entrypoint. LogLevel VERBOSE logs each authentication; tests count them.
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
LogLevel VERBOSE
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers $TEST_USER
MaxSessions ${SSH_MAX_SESSIONS:-10}
MaxStartups ${SSH_MAX_STARTUPS:-10:30:100}
Subsystem sftp internal-sftp
PrintMotd no
PrintLastLog no
EOF
  /usr/sbin/sshd -t
  /usr/sbin/sshd -E /var/log/sshd.log
  wait_for 100 sshd port_open 127.0.0.1 22
}

write_slurm_conf
start_munged
case "$ROLE" in
controller) start_controller ;;
compute) start_compute "${2:-}" ;;
login) start_login ;;
*) die "unknown role '$ROLE' (controller | compute NODE | login)" ;;
esac
log "$ROLE${2:+ $2} ready"

# PID 1: reap the orphans daemons leave (job steps, sshd sessions) and stop on TERM.
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $! || true
done
