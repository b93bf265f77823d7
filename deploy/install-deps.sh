#!/usr/bin/env bash
# Installs what Scope Ledger needs to build and test, from Debian 12 packages.
# Idempotent: installs only what is missing.  Runs apt-get as root, or through
# sudo when started by another user.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libevent-dev liblmdb-dev libmsgpack-dev libssl-dev
      openssl perl clang libclang-rt-14-dev valgrind adduser systemd)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
