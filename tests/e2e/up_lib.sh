# up_lib.sh - helpers for the shim / `podvisor up` end-to-end tests (sourced).
# Each test gets its own --root and --run-root under a temp dir, imports the
# busybox rootfs as "busybox", and cleans up on exit.  Needs root.
set -u
PV=${PODVISOR_BINARY:?PODVISOR_BINARY not set}
SRC=${PODVISOR_SOURCE_DIR:?PODVISOR_SOURCE_DIR not set}
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root"; exit 77; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-e2e-XXXXXX")
R=$T/root
RR=$T/run
SHIM_PIDS=""
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# skip WHAT WHY: a part this host cannot run, said on a line of its own and
# counted; the count is printed when the script ends.
SKIPPED=0
skip() { echo "skipped: $1 ($2)"; SKIPPED=$((SKIPPED + 1)); }
cleanup() {
  [ "$SKIPPED" = 0 ] || echo "$SKIPPED part(s) skipped"
  for p in $SHIM_PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $SHIM_PIDS; do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
rootfs() {
  local r=${TMPDIR:-/tmp}/podvisor-test-rootfs
  if [ ! -x "$r/bin/sh" ]; then
    sh "$SRC/contrib/mkrootfs-busybox.sh" "$r.$$" >/dev/null && mv "$r.$$" "$r" 2>/dev/null || rm -rf "$r.$$"
  fi
  echo "$r"
}
"$PV" --root "$R" image import busybox "$(rootfs)" >/dev/null || fail "image import"
uid_of() { printf '%s' "${2:-default}/$1" | sha256sum | cut -c1-16; }
status_of() { echo "$RR/pods/$(uid_of "$1")/status.json"; }
logdir_of() { echo "$R/logs/default_$1_$(uid_of "$1")"; }
# start_shim FILE NAME [extra shim args...]: runs the shim in the background.
start_shim() {
  local f=$1 n=$2; shift 2
  setsid "$PV" --root "$R" --run-root "$RR" shim --pod-file "$f" --pod "$n" "$@" </dev/null >>"$T/shim-$n.log" 2>&1 &
  LAST_SHIM=$!
  SHIM_PIDS="$SHIM_PIDS $LAST_SHIM"
}
# stop_shim PID: SIGTERM and wait (max 20 s).
stop_shim() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
# jq_status NAME FILTER: jq on the pod's status file ("" when absent).
jq_status() { jq -r "$2" "$(status_of "$1")" 2>/dev/null || true; }
# wait_for NAME FILTER VALUE [timeout_s]
wait_for() {
  local n=$1 f=$2 v=$3 t=${4:-10} i
  for i in $(seq $((t * 20))); do
    [ "$(jq_status "$n" "$f")" = "$v" ] && return 0
    sleep 0.05
  done
  echo "timeout: $n $f != $v (is '$(jq_status "$n" "$f")')" >&2
  cat "$T/shim-$n.log" >&2 2>/dev/null
  return 1
}
# ts_ns "2024-05-01T12:34:56.000000001Z" -> ns since the epoch
ts_ns() { date -u -d "$1" +%s%N; }
# pid_in_cgroup UID CONTAINER CMDLINE: the host pid of the process of that
# container whose command line is CMDLINE (arguments joined by spaces, with a
# trailing space), from its pids cgroup (v1); "" after 5 s.
pid_in_cgroup() {
  local p _
  for _ in $(seq 100); do
    for p in $(cat "/sys/fs/cgroup/pids/podvisor/$1/$2/cgroup.procs" 2>/dev/null); do
      [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$3" ] && { echo "$p"; return 0; }
    done
    sleep 0.05
  done
  return 1
}
