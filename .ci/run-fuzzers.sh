#!/bin/bash
# Build every libFuzzer target with clang, AddressSanitizer and UBSan, and run
# each for $QVPN_FUZZ_SECONDS (default 20) seconds from its seed corpus.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${QVPN_FUZZ_BUILD:-$src/build-fuzz}
secs=${QVPN_FUZZ_SECONDS:-20}
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DQVPN_FUZZ=ON -DQVPN_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null || exit 1
targets=$(cmake --build "$build" --target help | awk -F: '/^fuzz_/ {print $1}')
[ -n "$targets" ] || { echo "run-fuzzers: no fuzz targets"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target $targets || exit 1
rc=0
for t in $targets; do
	seeds=$(find "$src" -path "*/corpus/${t#fuzz_}" -type d | head -1)
	work=$(mktemp -d /tmp/qvpn-fuzz-$t.XXXXXX)
	[ -n "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
	if "$build/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 "$work" >"$work.log" 2>&1; then
		echo "fuzz $t: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}') runs)"
	else
		echo "fuzz $t: FAILED"; tail -30 "$work.log"; rc=1
	fi
	rm -rf "$work"
done
exit $rc
