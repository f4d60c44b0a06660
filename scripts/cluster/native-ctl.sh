#!/usr/bin/env bash
# Fault injection on the cluster native-up.sh started; every process is addressed by its pid file.
#
# Usage: scripts/cluster/native-ctl.sh COMMAND [NODE]
#   kill-slurmd NODE     SIGKILL slurmd of NODE (n1|n2); its running job steps are left alone
#   stop-slurmd NODE     SIGTERM it, wait until it is gone
#   start-slurmd NODE    start it again (no-op when it runs) and wait for its port
#   restart-slurmd NODE  stop-slurmd + start-slurmd
#   kill-sshd-sessions   SIGKILL every SSH connection's sshd process; the listener stays
#   stop-sshd            stop the listener (new connections are refused; open ones stay)
#   start-sshd           start the listener again
#   restart-sshd         stop-sshd + start-sshd (open connections stay, as with a real sshd restart)
#   status               one line per daemon: name, pid, alive|dead
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $EUID -eq 0 ]] || die "must run as root"
cmd="${1:-}"
node="${2:-}"
[[ -d "$STATE" ]] || die "no cluster state at $STATE (run native-up.sh)"
lock_state
need_node() {
  [[ " ${NODES[*]} " == *" $node "* ]] || die "$cmd needs a node name, one of: ${NODES[*]} (got '${node}')"
}
slurmd_pidfile() { echo "$SLURM_DIR/spool/$node/slurmd.pid"; }

case "$cmd" in
kill-slurmd)
  need_node
  pid="$(pidfile_pid "$(slurmd_pidfile)")"
  pid_alive "$pid" || die "slurmd $node is not running"
  kill -KILL "$pid"
  wait_for 10 "slurmd $node to die" bash -c "! ps -o stat= -p $pid | grep -qv '^Z'"
  ;;
stop-slurmd) need_node && stop_pidfile "$(slurmd_pidfile)" ;;
start-slurmd) need_node && start_slurmd "$node" && wait_slurmd "$node" ;;
restart-slurmd)
  need_node
  stop_pidfile "$(slurmd_pidfile)"
  start_slurmd "$node"
  wait_slurmd "$node"
  ;;
kill-sshd-sessions) stop_sshd_sessions ;;
stop-sshd) stop_pidfile "$SSH_DIR/sshd.pid" ;;
start-sshd) start_sshd ;;
restart-sshd)
  stop_pidfile "$SSH_DIR/sshd.pid"
  start_sshd
  ;;
status)
  for entry in "munged:$MUNGE_DIR/munged.pid" "mariadbd:$RUN_DIR/mysqld.pid" \
    "slurmdbd:$SLURM_DIR/state/slurmdbd.pid" "slurmctld:$SLURM_DIR/state/slurmctld.pid" \
    "slurmd-n1:$SLURM_DIR/spool/n1/slurmd.pid" "slurmd-n2:$SLURM_DIR/spool/n2/slurmd.pid" \
    "sshd:$SSH_DIR/sshd.pid"; do
    pid="$(pidfile_pid "${entry#*:}")"
    if pid_alive "$pid"; then state=alive; else state=dead; fi
    printf '%-10s %-8s %s\n' "${entry%%:*}" "${pid:--}" "$state"
  done
  ;;
*)
  sed -n "2,/^set -euo/{/^#/s/^# \{0,1\}//p}" "$0" >&2
  exit 2
  ;;
esac
