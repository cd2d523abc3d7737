#!/usr/bin/env bash
# A 20-second libFuzzer run of the manifest parser.  Opt-in, because it
# builds a separate clang tree: runs only with PODVISOR_FUZZ_SMOKE=1 and
# clang installed, and is skipped (exit 77) otherwise.
set -euo pipefail

if [ "${PODVISOR_FUZZ_SMOKE:-0}" != 1 ]; then
  echo "skipped: set PODVISOR_FUZZ_SMOKE=1 to run the fuzz smoke test"
  exit 77
fi
if ! command -v clang >/dev/null 2>&1; then
  echo "skipped: clang is not installed"
  exit 77
fi

src=${PODVISOR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# The build directory belongs to this checkout (ignored by git): a shared one
# in /tmp would hold another checkout's CMake cache and refuse to configure.
build=${PODVISOR_FUZZ_BUILD:-$src/build-fuzz-smoke}
PODVISOR_FUZZ_BUILD="$build" exec bash "$src/tests/fuzz/run.sh" 20 fuzz_spec
