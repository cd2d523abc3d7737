#!/usr/bin/env bash
# Runs a libFuzzer target of podvisor for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET]
#
# SECONDS defaults to 60, TARGET to fuzz_spec (the manifest parser; the
# other target is fuzz_values, the quantity/name/duration helpers).
# Installs clang with apt-get when it is missing, configures its own build
# directory (PODVISOR_FUZZ_BUILD, default <source>/build-fuzz, ignored by
# git), seeds a corpus there from ../shared/corpus and examples/, and runs the
# target with tests/fuzz/yaml.dict.  Exits 0 when the run ends cleanly and 1
# when the fuzzer finds a crash, a leak or a timeout; the reproducer is then
# in <build>/artifacts/ and its path is printed.
set -euo pipefail

secs=${1:-60}
target=${2:-fuzz_spec}
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [fuzz_spec|fuzz_values]" >&2; exit 2 ;; esac
case "$target" in fuzz_spec | fuzz_values) ;; *) echo "unknown target '$target'" >&2; exit 2 ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${PODVISOR_FUZZ_BUILD:-$src/build-fuzz}

if ! command -v clang >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "clang is not installed and this is not root: install clang first" >&2
    exit 2
  fi
  echo "installing clang..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >&2
fi

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DPODVISOR_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "$target" >/dev/null
bin="$build/tests/fuzz/$target"

# Seeds: every manifest of the shared corpus and the examples, named by
# content so re-seeding does not duplicate.  The fuzzer adds its finds here.
corpus="$build/corpus/$target"
artifacts="$build/artifacts"
mkdir -p "$corpus" "$artifacts"
for dir in "$src/../shared/corpus" "$src/examples"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' f; do
    sum=$(sha1sum "$f" | cut -c1-16)
    [ -e "$corpus/seed-$sum" ] || cp "$f" "$corpus/seed-$sum"
  done < <(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0)
done

log="$build/$target.log"
echo "fuzzing $target for ${secs}s (corpus $corpus, log $log)" >&2
set +e
# Distinct exit codes for a crash or a leak (-error_exitcode) and a slow
# input (-timeout_exitcode), so they are not mistaken for success or for
# ctest's "skipped" (77, libFuzzer's default error code).
"$bin" "$corpus" -dict="$here/yaml.dict" -max_len=65536 -max_total_time="$secs" \
  -timeout=10 -rss_limit_mb=2048 -error_exitcode=3 -timeout_exitcode=4 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
rc=$?
set -e

# Summary: duration, executions and coverage from libFuzzer's last lines.
grep -E '^#[0-9]+[[:space:]]+(DONE|pulse)' "$log" | tail -1 >&2 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" >&2 || true
if [ "$rc" -ne 0 ]; then
  echo "FUZZ FAILURE (exit $rc): see $log" >&2
  grep -E 'ERROR: |SUMMARY: |Test unit written to' "$log" >&2 || true
  exit 1
fi
echo "no crash in ${secs}s" >&2
