#!/bin/sh
# test.sh - install the dependencies, build, and run the whole test suite:
#   1. the normal build: unit, integration (real containers, as root) and
#      end-to-end tests, under ctest;
#   2. a sanitizer build (ASan + UBSan) running the unit, integration and
#      end-to-end tests again (the shims and `podvisor` themselves sanitized);
#   3. (inside 1) a 20-second libFuzzer smoke run of the manifest parser;
#   4. the integration and e2e suites of build 1 again in QEMU guests with
#      the cgroup layouts this host lacks: pure v2 and v1 only (tests/vm/;
#      counted as skipped, with the reason, where no guest can boot).
# Privileged tests report "skipped" when not run as root.
set -eu
cd "$(dirname "$0")/.."
sh contrib/deps.sh fuzz vm
export PODVISOR_FUZZ_SMOKE=1
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" >/dev/null
(cd build && ctest --output-on-failure -j "$jobs" -LE vm)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPODVISOR_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
# Unit suites run in-process (CK_FORK=no): a leak in a forked Check child
# would not fail the run.  The privileged suites need their forks.
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && CK_FORK=no ctest --output-on-failure -j "$jobs" -L unit)
(cd build-asan && ctest --output-on-failure -j "$jobs" -L "integration|e2e" -E fuzz_smoke)
(cd build && ctest --output-on-failure -V -L vm)
