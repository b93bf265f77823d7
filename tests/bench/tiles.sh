#!/usr/bin/env bash
# The cost of a tile (tests/bench/README.md, "Tiles"): builds a ledger of
# BENCH_ENTRIES entries (default 1000000) through the ledger layer, times
# reading random full level-0 tiles from the stored nodes in-process
# (scope-bench tiles), then serves it with tiles_listen and times curl
# fetching BENCH_TILES random full level-0 tiles (default 20000) over
# HTTPS, BENCH_PARALLEL at a time (default 4) on kept-alive connections.
# Numbers only; nothing here passes or fails on a timing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$top/build}
. "$top/tests/bench/instance.sh"
scoped=$bin/daemon/scoped
bench=$bin/tests/bench/scope-bench
entries=${BENCH_ENTRIES:-1000000}
tiles=${BENCH_TILES:-20000}
par=${BENCH_PARALLEL:-4}
if [ -n "${SMOKE:-}" ]; then entries=20000; tiles=500; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-bench-tiles-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$scoped" init "$tmp/big" --origin bench.example/tiles >/dev/null
printf 'map_initial_mib = 1024\ntiles_listen = 127.0.0.1:0\ntiles_public = yes\ntiles_rate_per_min = 10000000\n' \
	>> "$tmp/big/scoped.conf"
"$bench" generate -c "$tmp/big/scoped.conf" --count "$entries" --batch 10000 --size 200
"$bench" tiles -c "$tmp/big/scoped.conf" --count "$tiles"

: > "$tmp/log"
"$scoped" -c "$tmp/big/scoped.conf" --listen 127.0.0.1:0 2>>"$tmp/log" &
pid=$!
tp=$(bench_log_port "$tmp/log" "tiles listening")
# N as tlog-tiles spells it: x001/x234/067
python3 - "$entries" "$tiles" "$tp" > "$tmp/urls" <<'PY'
import random, sys
full, k, port = int(sys.argv[1]) // 256, int(sys.argv[2]), sys.argv[3]
def n(i):
    e = []
    while True:
        e.append(i % 1000)
        i //= 1000
        if not i:
            break
    return "/".join(("x%03d" if j else "%03d") % d for j, d in reversed(list(enumerate(e))))
for _ in range(k):
    print("url = https://127.0.0.1:%s/tile/0/%s" % (port, n(random.randrange(full))))
    print("output = /dev/null")
PY
t0=$(date +%s%N)
curl -sk --parallel --parallel-max "$par" -K "$tmp/urls" -w '%{http_code}\n' > "$tmp/codes"
t1=$(date +%s%N)
ok=$(grep -c '^200$' "$tmp/codes" || true)
ms=$(( (t1 - t0) / 1000000 ))
echo "tiles over HTTPS: $ok of $tiles full level-0 tiles (8192 bytes) from a ledger of $entries entries," \
	"$par at a time: $ms ms, $(( ok * 1000 / (ms + 1) )) tiles/s"
kill -TERM "$pid"; wait "$pid" || true; pid=
