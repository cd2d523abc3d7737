#!/bin/bash
# tests/bench/run.sh - podvisor's start-up benchmark: N full cycles of
# /bin/true in the busybox image (create, start, wait, destroy, with full
# isolation), measured three ways in ONE run so that the figures compare:
#   (a) the core lifecycle API in process      (tests/bench/bench_core.c)
#   (b) `podvisor run --rm busybox true`        (a whole process per run)
#   (c) `crun run` on an equivalent OCI bundle  (same rootfs, same namespaces)
# plus, when the reference micro-benchmark source is available, the kernel
# floor of such a cycle (clone + mounts + pivot_root + cgroups + exec + reap).
# Seccomp is priced on its own: podvisor runs its containers under
# RuntimeDefault by default, so (b) has the filter and (b-u) is the same run
# with --security-opt seccomp=unconfined; (b-c) clears podvisor's cache of
# compiled programs before every run (the cost of the first start after an
# upgrade or a new profile); (a-s) is (a) with the filter; (c) has no filter
# (`crun spec` has none) and (c-s) is crun with podman's default profile
# (containers-common's seccomp.json, turned into the bundle's linux.seccomp
# for the bundle's capabilities, as podman does), which crun compiles at
# every start.
#
# Needs root.  Installs what is missing (crun, hyperfine, jq, the build
# dependencies), builds podvisor in Release mode, imports the busybox image
# into a private store, and prints a markdown table (also written to $OUT).
# tests/bench/vm.sh runs it again in a QEMU guest with pure cgroup v2.
#
# The cgroup layout is read at run time: crun 1.8.1 refuses a hybrid one (v1
# controllers plus a cgroup2 that holds controllers), so only there crun runs
# in a mount namespace without that cgroup2; on pure v2 or pure v1 it runs
# as it is.
#
# Settings (environment):
#   N=200         core API cycles            RUNS=200  runs of (b) and (c)
#   WARMUP=5      untimed runs first         BUILD=<src>/build-bench
#   OUT=$BUILD/results.md                    BENCH_ROOT=/var/tmp/podvisor-bench
#   PIDS_LIMIT=64 pids limit of every container (all three ways)
#   NICE=0        run every measurement under `nice -n NICE` (e.g. -10 on a
#                 machine shared with other busy processes; same for all ways)
#   FLOOR_SRC     C source of the kernel-floor micro-benchmark ("nsbench"
#                 interface: ROOTFS N MODE); default: ../shared/anchors/nsbench.c
#                 beside the source tree, when it exists; FLOOR_SRC=none
#                 skips it and the ratio uses the 4 ms reference figure.
#                 It makes v1 cgroups only: where there are none (pure v2),
#                 its ctroci mode (the same without cgroups) is measured.
#   SECCOMP_PROFILE  podman's default profile (Docker format) for (c-s);
#                 default /usr/share/containers/seccomp.json (containers-common)
#   PREBUILT=1    install nothing and build nothing: use the podvisor and
#                 bench_core already in $BUILD (a guest of tests/bench/vm.sh,
#                 which sees the host's file system read-only, does this)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-200}
RUNS=${RUNS:-200}
WARMUP=${WARMUP:-5}
PIDS_LIMIT=${PIDS_LIMIT:-64}
NICE=${NICE:-0}
BUILD=${BUILD:-$SRC/build-bench}
OUT=${OUT:-$BUILD/results.md}
BENCH_ROOT=${BENCH_ROOT:-/var/tmp/podvisor-bench}
FLOOR_SRC=${FLOOR_SRC:-$SRC/../shared/anchors/nsbench.c}
FLOOR_REF_MS=${FLOOR_REF_MS:-4.0}
PREBUILT=${PREBUILT:-0}
SECCOMP_PROFILE=${SECCOMP_PROFILE:-/usr/share/containers/seccomp.json}
WORK="$BENCH_ROOT/work"
CRUN_ID="pvbench-$$"

log() { echo "=== $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (namespaces, mounts, cgroups)"

PV="$BUILD/podvisor"
BENCH_CORE="$BUILD/tests/bench/bench_core"
if [ "$PREBUILT" = 1 ]; then
  for t in crun hyperfine jq cc; do
    command -v "$t" >/dev/null || die "PREBUILT=1: $t is missing (install it on the host first: contrib/deps.sh bench)"
  done
  if [ ! -x "$PV" ] || [ ! -x "$BENCH_CORE" ]; then
    die "PREBUILT=1: no $PV or $BENCH_CORE (cmake --build $BUILD --target podvisor bench_core)"
  fi
else
  # ---------------------------------------------------------- dependencies
  sh "$SRC/contrib/deps.sh"
  need=""
  for p in crun hyperfine jq golang-github-containers-common; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
  done
  if [ -n "$need" ]; then
    log "installing:$need"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  fi

  # ---------------------------------------------------------- build
  log "building podvisor and bench_core (Release) in $BUILD"
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target podvisor bench_core >/dev/null
fi

# ------------------------------------------------------------ image and bundle
mkdir -p "$WORK"
PODVISOR="$PV" sh "$SRC/contrib/mkimage-busybox.sh" "$BENCH_ROOT" >&2
ROOTFS="$BENCH_ROOT/images/busybox/latest/rootfs"
[ -x "$ROOTFS/bin/true" ] || die "no busybox image at $ROOTFS"

log "OCI bundle for crun over the same rootfs: $WORK/bundle"
rm -rf "$WORK/bundle"
mkdir -p "$WORK/bundle"
(cd "$WORK/bundle" && crun spec)
# Same isolation as podvisor: pid, network, ipc, uts, mount and cgroup
# namespaces, a pids limit, no seccomp (crun spec has none; bundle-seccomp
# below adds one), no user ns.
# crun keeps its default read-only root (it has no overlay to write into).
jq --arg root "$ROOTFS" --argjson pids "$PIDS_LIMIT" '
    .process.terminal = false
  | .process.args = ["/bin/true"]
  | .root.path = $root
  | .hostname = "bench"
  | .linux.namespaces = [{"type":"pid"},{"type":"network"},{"type":"ipc"},
                         {"type":"uts"},{"type":"mount"},{"type":"cgroup"}]
  | del(.linux.uidMappings, .linux.gidMappings, .linux.seccomp)
  | .linux.resources.pids = {"limit": $pids}' \
  "$WORK/bundle/config.json" > "$WORK/bundle/config.json.new"
mv "$WORK/bundle/config.json.new" "$WORK/bundle/config.json"

# The same bundle with podman's default seccomp profile as its
# linux.seccomp: the Docker-format rules whose includes/excludes match the
# bundle's capabilities and amd64 (what podman writes into the config.json
# it hands crun).
if [ -f "$SECCOMP_PROFILE" ]; then
  rm -rf "$WORK/bundle-seccomp"
  cp -r "$WORK/bundle" "$WORK/bundle-seccomp"
  jq --slurpfile prof "$SECCOMP_PROFILE" '
    .process.capabilities.bounding as $caps
    | def ok: ((.includes.caps // []) - $caps | length == 0)
              and (((.excludes.caps // []) - ((.excludes.caps // []) - $caps)) | length == 0)
              and ((.includes.arches // ["amd64"]) | index("amd64") != null)
              and ((.excludes.arches // []) | index("amd64") == null);
    .linux.seccomp = ($prof[0] | {defaultAction, defaultErrnoRet,
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        syscalls: [.syscalls[] | select(ok) | {names, action}
                   + (if .errnoRet then {errnoRet} else {} end) + (if .args then {args} else {} end)]})' \
    "$WORK/bundle/config.json" > "$WORK/bundle-seccomp/config.json"
else
  log "no $SECCOMP_PROFILE (containers-common): crun is measured without seccomp only"
fi

# The cgroup layout of this host: "v2" (cgroup2 at /sys/fs/cgroup), "hybrid"
# (v1 controllers and a cgroup2 at .../unified that holds controllers), or
# "v1" (v1 controllers; a cgroup2 at .../unified, if any, holds none).
cgroup_layout() {
  local u=/sys/fs/cgroup/unified
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    echo v2
  elif mountpoint -q "$u" && [ "$(stat -f -c %T "$u")" = cgroup2fs ] &&
       [ -n "$(cat "$u/cgroup.controllers" 2>/dev/null)" ]; then
    echo hybrid
  else
    echo v1
  fi
}
LAYOUT=$(cgroup_layout)
log "cgroup layout: $LAYOUT"

# crun 1.8.1 refuses the hybrid layout.  There crun runs in a private mount
# namespace in which that cgroup2 is unmounted; the host is left as it is.
CRUN_NS=()
NSDIR="$WORK/ns"
cleanup() {
  if [ ${#CRUN_NS[@]} -gt 0 ]; then
    "${CRUN_NS[@]}" crun delete -f "$CRUN_ID" >/dev/null 2>&1 || true
    umount "$NSDIR/mnt" 2>/dev/null || true
    umount "$NSDIR" 2>/dev/null || true
  else
    crun delete -f "$CRUN_ID" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
U=/sys/fs/cgroup/unified
if [ "$LAYOUT" = hybrid ]; then
  log "hybrid cgroups: crun runs in a mount namespace without $U"
  mkdir -p "$NSDIR"
  if [ "$(stat -f -c %T "$NSDIR/mnt" 2>/dev/null)" != nsfs ]; then
    mountpoint -q "$NSDIR" || { mount --bind "$NSDIR" "$NSDIR"; mount --make-private "$NSDIR"; }
    touch "$NSDIR/mnt"
    unshare --mount="$NSDIR/mnt" --propagation private umount "$U"
  fi
  CRUN_NS=(nsenter --mount="$NSDIR/mnt" --)
fi

# ------------------------------------------------------------ measurements
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A MED MIN MAX CNT
P=(nice -n "$NICE")
# hyperfine JSON (seconds) -> MED/MIN/MAX in ms
from_json() {
  MED[$1]=$(jq '.results[0].median * 1000' "$2")
  MIN[$1]=$(jq '.results[0].min * 1000' "$2")
  MAX[$1]=$(jq '.results[0].max * 1000' "$2")
  CNT[$1]=$(jq '.results[0].times | length' "$2")
}

log "(a) core API in process: $N cycles"
if "${P[@]}" "$BENCH_CORE" -n "$N" -w "$WARMUP" --root "$BENCH_ROOT" | tee "$WORK/bench_core.txt" >&2; then
  line=$(grep '^bench_core n=' "$WORK/bench_core.txt")
  MED[core]=$(sed 's/.*median_ms=\([0-9.]*\).*/\1/' <<<"$line")
  MIN[core]=$(sed 's/.*min_ms=\([0-9.]*\).*/\1/' <<<"$line")
  MAX[core]=$(sed 's/.*max_ms=\([0-9.]*\).*/\1/' <<<"$line")
  CNT[core]=$N
else
  log "bench_core failed"
fi

if "${P[@]}" "$BENCH_CORE" -n "$N" -w "$WARMUP" --root "$BENCH_ROOT" --seccomp | tee "$WORK/bench_core_seccomp.txt" >&2; then
  line=$(grep '^bench_core n=' "$WORK/bench_core_seccomp.txt")
  MED[cores]=$(sed 's/.*median_ms=\([0-9.]*\).*/\1/' <<<"$line")
  MIN[cores]=$(sed 's/.*min_ms=\([0-9.]*\).*/\1/' <<<"$line")
  MAX[cores]=$(sed 's/.*max_ms=\([0-9.]*\).*/\1/' <<<"$line")
  CNT[cores]=$N
else
  log "bench_core --seccomp failed"
fi

log "(b) podvisor run --rm busybox true: $RUNS runs"
# The same pids limit as the other two ways (podvisor run's default is higher;
# the value does not change the cost, one write either way).
if "$PV" --root "$BENCH_ROOT" run --rm --pids-limit "$PIDS_LIMIT" busybox true &&
   "${P[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" --export-json "$WORK/podvisor-run.json" \
     "$PV --root $BENCH_ROOT run --rm --pids-limit $PIDS_LIMIT busybox true" >&2; then
  from_json run "$WORK/podvisor-run.json"
else
  log "podvisor run failed"
fi

RUN_CMD="$PV --root $BENCH_ROOT run --rm --pids-limit $PIDS_LIMIT"
log "(b-u) podvisor run --security-opt seccomp=unconfined: $RUNS runs"
if "${P[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" --export-json "$WORK/podvisor-run-unconfined.json" \
     "$RUN_CMD --security-opt seccomp=unconfined busybox true" >&2; then
  from_json runu "$WORK/podvisor-run-unconfined.json"
fi
log "(b-c) podvisor run, its seccomp program cache cleared before every run: $RUNS runs"
if "${P[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" --export-json "$WORK/podvisor-run-cold.json" \
     --prepare "rm -rf $BENCH_ROOT/cache/seccomp" "$RUN_CMD busybox true" >&2; then
  from_json runc "$WORK/podvisor-run-cold.json"
fi

log "(c) crun run on the same rootfs: $RUNS runs"
if "${CRUN_NS[@]}" crun run --bundle "$WORK/bundle" "$CRUN_ID" </dev/null &&
   "${CRUN_NS[@]}" "${P[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" \
     --prepare "sh -c 'crun delete -f $CRUN_ID >/dev/null 2>&1; exit 0'" \
     --export-json "$WORK/crun-run.json" "crun run --bundle $WORK/bundle $CRUN_ID" >&2; then
  from_json crun "$WORK/crun-run.json"
else
  log "crun run failed"
fi

if [ -f "$WORK/bundle-seccomp/config.json" ]; then
  log "(c-s) crun run with podman's default seccomp profile: $RUNS runs"
  if "${CRUN_NS[@]}" crun run --bundle "$WORK/bundle-seccomp" "$CRUN_ID" </dev/null &&
     "${CRUN_NS[@]}" "${P[@]}" hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" \
       --prepare "sh -c 'crun delete -f $CRUN_ID >/dev/null 2>&1; exit 0'" \
       --export-json "$WORK/crun-run-seccomp.json" "crun run --bundle $WORK/bundle-seccomp $CRUN_ID" >&2; then
    from_json cruns "$WORK/crun-run-seccomp.json"
  else
    log "crun run with seccomp failed"
  fi
fi

FLOOR_NOTE="reference figure measured on this VM, not in this run"
# The floor's ctrocicg mode makes v1 memory, cpu and pids cgroups; without
# them its ctroci mode (the same cycle without cgroups) is the floor.
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpu ] && [ -d /sys/fs/cgroup/pids ]; then
  FLOOR_MODE=ctrocicg
  FLOOR_WHAT="clone + OCI mounts + pivot_root + 3 v1 cgroups + exec + reap"
else
  FLOOR_MODE=ctroci
  FLOOR_WHAT="clone + OCI mounts + pivot_root + exec + reap, no cgroups (ctroci: the micro-benchmark makes v1 cgroups only)"
fi
if [ "$FLOOR_SRC" != none ] && [ -f "$FLOOR_SRC" ]; then
  log "(d) kernel floor ($FLOOR_MODE mode of $FLOOR_SRC): $N iterations"
  # nsbench makes its base directories under /sys/fs/cgroup/{memory,cpu,pids}
  # whatever the mode: without v1 it runs where those are plain directories
  # of a tmpfs, in a mount namespace of its own (ctroci never uses them).
  FLOOR_RUN=("$WORK/nsbench")
  [ "$FLOOR_MODE" = ctrocicg ] || FLOOR_RUN=(unshare -m --propagation private sh -c \
    'mount -t tmpfs nsbench /sys/fs/cgroup && mkdir /sys/fs/cgroup/memory /sys/fs/cgroup/cpu /sys/fs/cgroup/pids && exec "$@"' \
    sh "$WORK/nsbench")
  if cc -O2 -o "$WORK/nsbench" "$FLOOR_SRC" 2>/dev/null &&
     "${P[@]}" "${FLOOR_RUN[@]}" "$ROOTFS" "$N" "$FLOOR_MODE" | tee "$WORK/floor.txt" >&2; then
    line=$(grep 'median=' "$WORK/floor.txt")
    MED[floor]=$(awk -v l="$line" 'BEGIN{match(l,/median=[0-9.]+/); print substr(l,RSTART+7,RLENGTH-7)/1000}')
    MIN[floor]=$(awk -v l="$line" 'BEGIN{match(l,/min=[0-9.]+/); print substr(l,RSTART+4,RLENGTH-4)/1000}')
    MAX[floor]=$(awk -v l="$line" 'BEGIN{match(l,/max=[0-9.]+/); print substr(l,RSTART+4,RLENGTH-4)/1000}')
    CNT[floor]=$N
    FLOOR_NOTE="measured in this run"
  fi
fi

# ------------------------------------------------------------ report
fmt() { [ -n "${MED[$1]:-}" ] && printf '%.2f | %.2f–%.2f | %s' "${MED[$1]}" "${MIN[$1]}" "${MAX[$1]}" "${CNT[$1]}" || printf 'failed | – | –'; }
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}' || printf 'n/a'; }
verdict() { [ "$1" = n/a ] && { printf 'n/a'; return; }; awk -v r="$1" -v t="$2" 'BEGIN{print (r <= t) ? "met" : "MISSED"}'; }

if [ -n "${MED[floor]:-}" ] || [ "$FLOOR_REF_MS" != none ]; then
  floor_ms=$(printf '%.2f' "${MED[floor]:-$FLOOR_REF_MS}")
else
  floor_ms=n/a FLOOR_NOTE="not measured"
fi
r_run=$(ratio "${MED[runu]:-}" "${MED[crun]:-}")
r_runs=$(ratio "${MED[run]:-}" "${MED[cruns]:-}")
diff_ms() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.2f ms", a-b}' || printf 'n/a'; }
r_core=n/a
[ "$floor_ms" = n/a ] || r_core=$(ratio "${MED[core]:-}" "$floor_ms")
core_ok=$( [ -n "${MED[core]:-}" ] && awk -v m="${MED[core]}" 'BEGIN{print (m <= 6.0) ? "met" : "MISSED"}' || echo n/a)

mkdir -p "$(dirname "$OUT")"
{
  echo "## podvisor start-up benchmark ($(date -u +%FT%TZ))"
  echo
  echo "Host: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), cgroup layout $LAYOUT;" \
       "$(crun --version | head -1); $(hyperfine --version); load average before the run $LOAD0, nice $NICE. Workload: /bin/true in busybox:latest," \
       "pid+net+ipc+uts+mount+cgroup namespaces, pids limit $PIDS_LIMIT."
  echo
  echo "| way | median ms | min–max ms | runs |"
  echo "|---|---:|---:|---:|"
  echo "| (a) core API in process: create+start+wait+destroy (bench_core) | $(fmt core) |"
  echo "| (a-s) the same under seccomp RuntimeDefault (program compiled once, before the cycles) | $(fmt cores) |"
  echo "| (b) \`podvisor run --rm --pids-limit $PIDS_LIMIT busybox true\` (whole process, hyperfine -N; seccomp RuntimeDefault, the default) | $(fmt run) |"
  echo "| (b-u) the same with \`--security-opt seccomp=unconfined\` | $(fmt runu) |"
  echo "| (b-c) (b) with podvisor's cache of compiled seccomp programs cleared before every run | $(fmt runc) |"
  echo "| (c) \`crun run\` on the same rootfs (whole process, hyperfine -N; no seccomp, as \`crun spec\`) | $(fmt crun) |"
  echo "| (c-s) \`crun run\` with podman's default seccomp profile | $(fmt cruns) |"
  if [ -n "${MED[floor]:-}" ]; then
    echo "| kernel floor: $FLOOR_WHAT | $(fmt floor) |"
  fi
  echo
  echo "| ratio | value | target | |"
  echo "|---|---:|---:|---|"
  echo "| podvisor run / crun run, both without seccomp (b-u)/(c) | $r_run | ≤ 0.50 | $(verdict "$r_run" 0.5) |"
  echo "| podvisor run / crun run, both with seccomp (b)/(c-s) | $r_runs | ≤ 0.50 | $(verdict "$r_runs" 0.5) |"
  echo "| seccomp per start: podvisor run (b)-(b-u), cache warm | $(diff_ms "${MED[run]:-}" "${MED[runu]:-}") | | |"
  echo "| seccomp per start: podvisor run, compiling (b-c)-(b-u) | $(diff_ms "${MED[runc]:-}" "${MED[runu]:-}") | | |"
  echo "| seccomp per start: core API (a-s)-(a) | $(diff_ms "${MED[cores]:-}" "${MED[core]:-}") | ≤ 1 ms | |"
  echo "| seccomp per start: crun (c-s)-(c) | $(diff_ms "${MED[cruns]:-}" "${MED[crun]:-}") | | |"
  echo "| core API / kernel floor ($floor_ms ms, $FLOOR_NOTE) | $r_core | – | |"
  echo "| core API cycle | ${MED[core]:-n/a} ms | ≤ 6 ms | $core_ok |"
} | tee "$OUT"
log "results written to $OUT; raw data in $WORK"
