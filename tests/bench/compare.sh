#!/usr/bin/env bash
# Before and after a change, in the same run: tests/bench/compare.sh OLD_REV NEW_REV
# Builds both revisions of this repository in temporary worktrees outside it
# (git worktree add under mktemp -d, removed at exit), makes one throwaway
# instance per revision and starts both daemons, then alternates rounds: each
# round runs, for one revision and then the other (the first one turning from
# round to round), scope-bench append at 64 connections x 32 in flight with
# 256-byte notes, and an offered load of 10,000 appends/s (16 connections);
# it prints each run and the medians per revision.
#   BENCH_ROUNDS   rounds (default 5)
#   BENCH_SECONDS  seconds per run (default 5)
#   BENCH_JOBS     build jobs (default 2)
# Both daemons are driven by NEW_REV's scope-bench, so the load generator is
# the same on both sides.  Numbers only; nothing passes or fails on a timing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${BENCH_ROUNDS:-5}
secs=${BENCH_SECONDS:-5}
jobs=${BENCH_JOBS:-2}
if [ $# -ne 2 ]; then
	echo "usage: tests/bench/compare.sh OLD_REV NEW_REV (two revisions of this repository)" >&2
	exit 2
fi
revs=()
for r in "$1" "$2"; do
	if ! c=$(git -C "$top" rev-parse --verify --quiet "$r^{commit}"); then
		echo "compare.sh: $r is not a revision of $top (give a commit, branch or tag)" >&2
		exit 2
	fi
	revs+=("$c")
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-compare-XXXXXX")
pids=()
trees=()
cleanup() {
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
	for t in ${trees[@]+"${trees[@]}"}; do git -C "$top" worktree remove --force "$t" 2>/dev/null || true; done
	git -C "$top" worktree prune 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state
. "$here/instance.sh"

names=(old new)
for i in 0 1; do
	n=${names[$i]}
	git -C "$top" worktree add --detach "$tmp/src-$n" "${revs[$i]}" >/dev/null 2>&1
	trees+=("$tmp/src-$n")
	echo "building $n ${revs[$i]:0:12} ($(git -C "$top" log -1 --format=%s "${revs[$i]}" | cut -c1-60))"
	targets=(scoped)
	[ "$n" = new ] && targets+=(scope-bench)
	cmake -S "$tmp/src-$n" -B "$tmp/build-$n" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/build-$n.log" 2>&1 &&
		cmake --build "$tmp/build-$n" -j"$jobs" --target "${targets[@]}" >>"$tmp/build-$n.log" 2>&1 ||
		{ tail -20 "$tmp/build-$n.log"; echo "compare.sh: building $n failed" >&2; exit 1; }
done
bench=$tmp/build-new/tests/bench/scope-bench

ports=()
for i in 0 1; do
	n=${names[$i]}
	bench_init "$tmp/build-$n/daemon/scoped" "$tmp/$n" "bench.example/$n"
	bench_serve "$tmp/build-$n/daemon/scoped" "$tmp/$n" "$tmp/$n.log"
	pids+=("$bench_pid")
	ports+=("$bench_port")
done

get() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "-" }'; }
# run SIDE: one pipelined run and one offered-load run against SIDE's daemon
run() {
	local prof=$tmp/$1/clients/admin.conf j tput p50 p99
	j=$("$bench" append --config "$prof" --connections 64 --pipeline 32 --size 256 --duration "$secs" \
		--json 2>/dev/null || echo '{}')
	tput=$(echo "$j" | get entries_per_s)
	j=$("$bench" append --config "$prof" --connections 16 --pipeline 32 --size 256 --rate 10000 \
		--duration "$secs" --json 2>/dev/null || echo '{}')
	p50=$(echo "$j" | get p50_ms)
	p99=$(echo "$j" | get p99_ms)
	printf '%-6s %-4s %14s %12s %12s\n' "$r" "$1" "${tput:--}" "${p50:--}" "${p99:--}"
	echo "$1 ${tput:--} ${p50:--} ${p99:--}" >> "$tmp/results"
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1); the load generator on the same machine"
echo "${secs}s per run; 64 conn x 32 in flight, 256 B, durable; then 10000/s offered from 16 connections"
printf '%-6s %-4s %14s %12s %12s\n' round rev "entries/s" "p50 ms" "p99 ms"
: > "$tmp/results"
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then run old; run new; else run new; run old; fi
done
for n in old new; do
	col() { awk -v n="$n" -v k="$1" '$1 == n && $k != "-" { print $k }' "$tmp/results" | median; }
	printf 'median %-4s %14s %12s %12s   (%s)\n' "$n" "$(col 2)" "$(col 3)" "$(col 4)" \
		"$(git -C "$top" log -1 --format='%h %s' "${revs[$([ "$n" = old ] && echo 0 || echo 1)]}" | cut -c1-50)"
done
