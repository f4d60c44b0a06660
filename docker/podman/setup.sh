#!/usr/bin/env bash
# Podman as testcontainers' runtime on a machine without a Docker engine or a reachable image
# registry (Debian 12, root): installs podman, runc and debootstrap, writes a containers.conf that
# works here (runc; ulimits within the machine's hard limits; short exit_command_delay), makes
# localhost/debian:bookworm by debootstrap if absent, builds the Slurm image from docker/slurm, starts
# the Docker-compatible API service and prints the environment testcontainers needs.
# Idempotent: each step is skipped when its result is there.
#
# Usage: docker/podman/setup.sh [stop]      (stop: end the API service started here, by its pid)
# Env:   SLURM_PIPES_PODMAN_DIR (default <repo>/.state/podman): containers.conf, socket, env file, cache
#        SLURM_PIPES_SLURM_IMAGE (default localhost/slurm-pipes-slurm:latest)
#        SLURM_PIPES_DEBIAN_MIRROR (default: the first deb.debian.org-style URI apt already uses)
# Output (stdout, also <dir>/podman.env): DOCKER_HOST=... TESTCONTAINERS_RYUK_DISABLED=true
#        TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 CONTAINERS_CONF=... SLURM_PIPES_SLURM_IMAGE=...
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${SLURM_PIPES_PODMAN_DIR:-$REPO_ROOT/.state/podman}"
IMAGE="${SLURM_PIPES_SLURM_IMAGE:-localhost/slurm-pipes-slurm:latest}"
BASE_IMAGE=localhost/debian:bookworm
SOCKET="$DIR/podman.sock"
PIDFILE="$DIR/podman-service.pid"
export CONTAINERS_CONF="$DIR/containers.conf"

log() { printf '[podman] %s\n' "$*" >&2; }
die() {
  printf '[podman] error: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
LAST=$(now_ms)
T0=$LAST
step() {
  local t
  t=$(now_ms)
  log "$(printf '%-40s %7d ms' "$1" $((t - LAST)))"
  LAST=$t
}
pid_alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}
service_pid() { [[ -f "$PIDFILE" ]] && tr -dc '0-9' <"$PIDFILE" || true; }

[[ $EUID -eq 0 ]] || die "must run as root"
mkdir -p "$DIR"

if [[ "${1:-}" == "stop" ]]; then
  pid="$(service_pid)"
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
    log "stopped the API service (pid $pid)"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

# --- packages ----------------------------------------------------------------------------------
missing=()
for p in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${missing[@]}" >"$DIR/apt.log" 2>&1; then
    apt-get update -q >>"$DIR/apt.log" 2>&1 || true
    apt-get install -y -q "${missing[@]}" >>"$DIR/apt.log" 2>&1 || die "apt-get install failed, see $DIR/apt.log"
  fi
  step "install ${missing[*]}"
fi

# --- containers.conf ---------------------------------------------------------------------------
# crun fails here on setrlimit and on hybrid cgroups; runc works when the default ulimits stay within
# the hard limits of this machine (nproc at most 32768).
nofile="$(ulimit -Hn)"
[[ "$nofile" == unlimited || "$nofile" -gt 1048576 ]] && nofile=1048576
nproc="$(ulimit -Hu)"
[[ "$nproc" == unlimited || "$nproc" -gt 32768 ]] && nproc=32768
cat >"$CONTAINERS_CONF.tmp" <<EOF
# Written by docker/podman/setup.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
# Each exec through the API leaves two conmon processes behind until this delay (300 s by default).
exit_command_delay = 5
EOF
mv -f "$CONTAINERS_CONF.tmp" "$CONTAINERS_CONF"

# --- base image --------------------------------------------------------------------------------
if ! podman image exists "$BASE_IMAGE"; then
  mirror="${SLURM_PIPES_DEBIAN_MIRROR:-}"
  if [[ -z "$mirror" ]]; then
    mirror="$(grep -hoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
      awk '{ print $2 }' | grep -v -- '-security' | head -n1 || true)"
  fi
  [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
  rootfs="$DIR/cache/bookworm-minbase"
  if [[ ! -f "$rootfs/.complete" ]]; then
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$DIR/debootstrap.log" 2>&1 ||
      die "debootstrap from $mirror failed, see $DIR/debootstrap.log"
    # apt lists and downloaded debs are most of the size; the image build runs apt-get update anyway.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    touch "$rootfs/.complete"
    step "debootstrap bookworm minbase ($mirror)"
  fi
  tar -C "$rootfs" --exclude=./.complete -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
  step "import $BASE_IMAGE"
fi

# --- Slurm image -------------------------------------------------------------------------------
# Labelled with a hash of the build context, so an unchanged context skips the build entirely.
context="$REPO_ROOT/docker/slurm"
context_hash="$(cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [[ "$(podman image inspect --format '{{ index .Labels "slurm-pipes.context" }}' "$IMAGE" 2>/dev/null || true)" != "$context_hash" ]]; then
  podman build --quiet --network=host --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --label "slurm-pipes.context=$context_hash" -t "$IMAGE" "$context" >"$DIR/build.log" 2>&1 ||
    die "podman build failed, see $DIR/build.log"
  step "build $IMAGE"
fi

# --- Docker-compatible API service -------------------------------------------------------------
pid="$(service_pid)"
if [[ -z "$pid" ]] || ! pid_alive "$pid"; then
  rm -f "$SOCKET"
  setsid podman system service --time=0 "unix://$SOCKET" </dev/null >>"$DIR/service.log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 100); do
    [[ -S "$SOCKET" ]] && break
    sleep 0.05
  done
  [[ -S "$SOCKET" ]] || die "podman system service did not create $SOCKET, see $DIR/service.log"
  step "podman system service (pid $(service_pid))"
fi

cat >"$DIR/podman.env" <<EOF
DOCKER_HOST=unix://$SOCKET
TESTCONTAINERS_RYUK_DISABLED=true
TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
CONTAINERS_CONF=$CONTAINERS_CONF
SLURM_PIPES_SLURM_IMAGE=$IMAGE
EOF
log "$(printf '%-40s %7d ms' "ready, total" $(($(now_ms) - T0)))"
cat "$DIR/podman.env"
