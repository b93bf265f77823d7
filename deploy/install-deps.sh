#!/usr/bin/env bash
# Installs what Scope Ledger needs from Debian 12 packages:
#   deploy/install-deps.sh          to build and run it (compiler, CMake, the
#                                   libraries: libevent, LMDB, msgpack-c, OpenSSL)
#   deploy/install-deps.sh --test   that, and what the tests use besides: the
#                                   openssl, perl and python3 tools, clang with its
#                                   sanitizer and fuzzer runtime, valgrind, and
#                                   systemd and adduser for the package test,
#                                   and for the dossier's browser test Debian's
#                                   chromium (and a Japanese font) with
#                                   playwright-core from npm in
#                                   tests/node_modules (tests/package.json)
#   deploy/install-deps.sh --bench  that, and PostgreSQL with pgbench for the
#                                   peer benchmark (tests/bench/peer.sh)
# Idempotent: installs only what is missing.  Runs apt-get as root, or through
# sudo when started by another user.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libevent-dev liblmdb-dev libmsgpack-dev libssl-dev)
test_pkgs=(openssl perl python3 clang libclang-rt-14-dev valgrind adduser systemd chromium nodejs fonts-ipaexfont-gothic curl)
case ${1:-} in
	"") ;;
	--test) pkgs+=("${test_pkgs[@]}") ;;
	--bench) pkgs+=(postgresql) ;;
	*) echo "usage: deploy/install-deps.sh [--test|--bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm comes with some builds of nodejs (and conflicts with Debian's npm there)
[ "${1:-}" = --test ] && ! command -v npm >/dev/null && missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	as_root=()
	[ "$(id -u)" -eq 0 ] || as_root=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${as_root[@]}" apt-get update -qq
	"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The browser test drives Debian's chromium through playwright-core (no browser
# download), installed next to the tests rather than system-wide.
if [ "${1:-}" = --test ] && [ ! -d "$(dirname "$0")/../tests/node_modules/playwright-core" ]; then
	(cd "$(dirname "$0")/../tests" && npm install --no-audit --no-fund --silent)
fi
