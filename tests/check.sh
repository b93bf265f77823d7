#!/usr/bin/env bash
# The whole test run, as CI does it (README "Run the tests"):
#   1. the normal build (-Werror) and every test under ctest;
#   2. the same tests in a clang build with AddressSanitizer and
#      UndefinedBehaviorSanitizer (any report fails the run);
#   3. each libFuzzer target for FUZZ_SECONDS (default 20) from its corpus;
#   4. the benchmarks for a second each (tests/bench/run.sh, SMOKE=1);
#   5. with SCOPE_PACKAGE_TEST=1 (CI sets it; it needs root and installs and
#      removes the package on this machine): deploy/package-test.sh.
# Set SKIP_SANITIZE=1 or SKIP_FUZZ=1 to leave a stage out.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-20}

stages=0
echo "== build and test"
cmake -S . -B build -DSCOPE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure
stages=$((stages + 1))

if [ -z "${SKIP_SANITIZE:-}" ]; then
	echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and test"
	cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DSCOPE_SANITIZE=ON -DSCOPE_WERROR=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	SKIP_VALGRIND=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --test-dir build-asan --output-on-failure
	stages=$((stages + 1))
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
	echo "== fuzz targets, ${fuzz_seconds}s each"
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSCOPE_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
	cmake --build build-fuzz -j"$jobs"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	for t in fuzz_frame fuzz_request fuzz_entry fuzz_note fuzz_export; do
		mkdir -p "$work/$t"
		cp tests/fuzz/corpus/$t/* "$work/$t/"
		if ! build-fuzz/tests/fuzz/$t -max_total_time="$fuzz_seconds" -max_len=65536 \
			-artifact_prefix="$work/$t-" "$work/$t" > "$work/$t.log" 2>&1; then
			tail -40 "$work/$t.log"
			echo "fuzz target $t failed; the input is in $(ls "$work/$t-"* 2>/dev/null | head -1)"
			exit 1
		fi
		echo "$t: $(grep -E '^Done' "$work/$t.log")"
	done
	stages=$((stages + 1))
fi
echo "== benchmark smoke run (numbers only, no thresholds)"
SMOKE=1 tests/bench/run.sh
stages=$((stages + 1))
if [ -n "${SCOPE_PACKAGE_TEST:-}" ]; then
	echo "== Debian package: build, install, run, remove"
	deploy/package-test.sh
	stages=$((stages + 1))
fi
# any failure above has already stopped the run (set -e)
echo "check: $stages passed, 0 failed"
