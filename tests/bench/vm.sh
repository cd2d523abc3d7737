#!/bin/bash
# tests/bench/vm.sh - runs the benchmarks again in a QEMU guest with another
# cgroup layout (default: pure cgroup v2), so that podvisor is measured
# against crun and podman there as well as on this host.
#
#   tests/bench/vm.sh [--layout v2|v1] [run|pod]...     (default: run pod)
#
#   run  tests/bench/run.sh: podvisor run --rm and the core API against
#        crun run (and the kernel floor when its source is there)
#   pod  tests/bench/bench_pod.sh: pods against podman kube play
#
# Needs root.  The guest (tests/vm/vm.sh) sees this host's file system
# read-only over virtiofs, has no network, no systemd and no KVM here (TCG):
# so everything it runs is installed and built on the host first (crun,
# hyperfine, jq, podman, runc, catatonit, QEMU: contrib/deps.sh bench vm;
# podvisor, podvisor-shim and bench_core in $BUILD, Release), and nothing
# in it is pulled: run.sh imports busybox from the host's busybox-static,
# bench_pod.sh hands podman a tarball of the same rootfs, and podman builds
# its infra image locally around catatonit.  In the guest, podman keeps its
# storage on the tmpfs /var/lib/containers, with the cgroupfs manager and
# file events (bench_pod.sh sets both everywhere).
#
# Under TCG the guest runs several times slower than the host: absolute
# times do not compare with the host's, only the ratios measured side by
# side in one run do.  Fewer iterations are run there by default.
#
# Settings (environment), passed into the guest:
#   BUILD=<src>/build-bench   build tree (also holds the guest's kernel, vm/)
#   N=100 RUNS=50 WARMUP=3    run.sh in the guest (its cycles, runs, warm-up)
#   POD_RUNS=5 GAP_SECS=5 PODS=5   bench_pod.sh in the guest
#   POD_RUNTIME=crun          podman's OCI runtime in the guest (crun runs
#                             natively on v2).  Neither crun nor runc 1.1.5
#                             starts a pod of `podman kube play` there yet:
#                             the infra container is denied /dev/null
#                             (tests/bench/README.md); bench_pod.sh then
#                             prints podvisor's figures alone and fails.
#   FLOOR_SRC NICE PIDS_LIMIT  as run.sh's
#   TIMEOUT=1200              seconds the whole guest may take
#   OUTDIR=$BUILD/vm-results  where the results are copied on the host
#
# The guest writes its results into the share of vm.sh ($BUILD/vm/LAYOUT/
# share, mounted read-write at the same path in the guest): run.md (run.sh's
# table), pod.txt (bench_pod.sh's summary) and log (everything).  They are
# copied to $OUTDIR and printed once the guest has powered off.  The exit
# status is that of the benchmarks (non-zero when one failed), 77 when no
# guest can run here.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "bench/vm.sh: $*" >&2; exit 1; }

# ---- in the guest: run the benchmarks asked for, results into the share ----
if [ "${1:-}" = --in-guest ]; then
  shift
  share=${1:?}
  shift
  rc=0
  for what in "$@"; do
    echo "=== bench/vm.sh: $what in the guest ($(uname -r), cgroup $(stat -f -c %T /sys/fs/cgroup))"
    case $what in
      run)
        PREBUILT=1 BUILD=$BUILD OUT=$share/run.md N=$N RUNS=$RUNS WARMUP=$WARMUP \
          bash "$SRC/tests/bench/run.sh" || { echo "bench/vm.sh: run.sh failed"; rc=1; }
        ;;
      pod)
        # bench_pod.sh prints its summary on stdout, its progress on stderr.
        set +e
        RUNS=$POD_RUNS PM_DIR=/var/lib/containers/podvisor-bench PM_RUNTIME=$POD_RUNTIME \
          bash "$SRC/tests/bench/bench_pod.sh" "$BUILD/podvisor" | tee "$share/pod.txt"
        [ "${PIPESTATUS[0]}" = 0 ] || { echo "bench/vm.sh: bench_pod.sh failed"; rc=1; }
        set -e
        ;;
    esac
  done
  exit $rc
fi

# ---- on the host ----
layout=v2
while [ $# -gt 0 ]; do
  case $1 in
    --layout) layout=$2; shift 2 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (usage: vm.sh [--layout v2|v1] [run|pod]...)" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- run pod
for what in "$@"; do
  case $what in run|pod) ;; *) die "unknown benchmark '$what' (run or pod)" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (the guest's virtiofsd, the benchmarks themselves)"

export BUILD=${BUILD:-$SRC/build-bench}
export N=${N:-100} RUNS=${RUNS:-50} WARMUP=${WARMUP:-3}
export POD_RUNS=${POD_RUNS:-5} GAP_SECS=${GAP_SECS:-5} PODS=${PODS:-5} POD_RUNTIME=${POD_RUNTIME:-crun}
export NICE=${NICE:-0} PIDS_LIMIT=${PIDS_LIMIT:-64}
FLOOR_SRC=${FLOOR_SRC:-$SRC/../shared/anchors/nsbench.c}
if [ -f "$FLOOR_SRC" ]; then FLOOR_SRC=$(readlink -f "$FLOOR_SRC"); else FLOOR_SRC=none; fi
export FLOOR_SRC
TIMEOUT=${TIMEOUT:-1200}
OUTDIR=${OUTDIR:-$BUILD/vm-results}

# The guest's /usr is the host's: what it runs must be installed here.
sh "$SRC/contrib/deps.sh" bench vm || die "contrib/deps.sh bench vm failed"
for t in crun hyperfine jq podman runc catatonit python3 cc qemu-system-x86_64; do
  command -v "$t" >/dev/null || die "$t is missing on the host (contrib/deps.sh bench vm)"
done

echo "=== bench/vm.sh: building podvisor, podvisor-shim and bench_core (Release) in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target podvisor podvisor-shim bench_core >/dev/null

share=$BUILD/vm/$layout/share
set +e
bash "$SRC/tests/vm/vm.sh" --layout "$layout" --build "$BUILD" --timeout "$TIMEOUT" -- \
  env BUILD="$BUILD" N="$N" RUNS="$RUNS" WARMUP="$WARMUP" POD_RUNS="$POD_RUNS" POD_RUNTIME="$POD_RUNTIME" GAP_SECS="$GAP_SECS" \
  PODS="$PODS" NICE="$NICE" PIDS_LIMIT="$PIDS_LIMIT" FLOOR_SRC="$FLOOR_SRC" \
  bash "$SRC/tests/bench/vm.sh" --in-guest "$share" "$@"
rc=$?
set -e
[ "$rc" = 77 ] && exit 77

# vm.sh empties the share at its next run: keep the results beside the build.
mkdir -p "$OUTDIR"
for f in run.md pod.txt log; do
  [ -f "$share/$f" ] && cp "$share/$f" "$OUTDIR/$layout-$f"
done
accel=$(cat "$BUILD/vm/accel" 2>/dev/null || echo unknown)
echo
echo "===== results of the $layout guest ($accel: under TCG, compare only the ratios with the host's) ====="
[ -f "$OUTDIR/$layout-run.md" ] && { echo; cat "$OUTDIR/$layout-run.md"; }
[ -f "$OUTDIR/$layout-pod.txt" ] && { echo; cat "$OUTDIR/$layout-pod.txt"; }
echo
echo "bench/vm.sh: results in $OUTDIR ($layout-*), guest exit status $rc"
exit "$rc"
