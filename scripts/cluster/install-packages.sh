#!/usr/bin/env bash
# Installs the Debian packages the native test cluster needs (Slurm 22.05, munge, MariaDB for
# slurmdbd, OpenSSH server and client); a no-op taking a few ms when all are installed.
# Runs apt-get update only when an install fails (e.g. no package lists yet). Root only.
# Usage: scripts/cluster/install-packages.sh
set -euo pipefail
PACKAGES=(slurmctld slurmd slurm-client munge openssh-server openssh-client slurmdbd mariadb-server)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
[[ $EUID -eq 0 ]] || { echo "[cluster] error: installing ${missing[*]} needs root" >&2; exit 1; }

started=$(date +%s%3N)
echo "[cluster] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp /tmp/slurm-pipes-apt.XXXXXX)"
apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; }
if ! apt_install; then
  echo "[cluster] apt-get install failed; running apt-get update and retrying" >&2
  apt-get update -q >>"$log" 2>&1 || true
  apt_install || { tail -20 "$log" >&2; echo "[cluster] error: apt-get install failed, full log: $log" >&2; exit 1; }
fi
rm -f "$log"
echo "[cluster] $(printf '%-34s %6d ms' "install packages" $(($(date +%s%3N) - started)))" >&2
