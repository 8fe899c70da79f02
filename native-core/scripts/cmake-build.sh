#!/usr/bin/env bash
# Configures and builds native-core (and cuda-src where nvcc exists) for Maven: quiet when it works,
# the whole log when it does not.
# Usage: cmake-build.sh SOURCE_DIR BUILD_DIR VERSION
set -u
src=$1 build=$2 version=$3
mkdir -p "$build"
log="$build/build.log"
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
{
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DJDYN_VERSION="$version" &&
  cmake --build "$build" --parallel "$(nproc 2>/dev/null || echo 2)"
} >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  cat "$log" >&2
  echo "native-core: the CMake build failed (log above, also in $log)" >&2
  exit $rc
fi
if grep -qi 'warning' "$log"; then
  grep -i -A3 'warning' "$log" >&2
fi
if [ ! -f "$build/cuda-src/libjdyn_cuda.so" ]; then
  echo "native-core: nvcc not found, libjdyn_cuda.so not built (CUDA is optional)" >&2
fi
exit 0
