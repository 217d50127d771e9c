#!/bin/bash
# Configure and build qvpn in $QVPN_BUILD (default ./build).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${QVPN_BUILD:-$src/build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$build" -j "$(nproc)"
