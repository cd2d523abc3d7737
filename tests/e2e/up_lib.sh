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
# SLOW: how many times slower than this host the machine runs (the test
# guest under TCG exports PODVISOR_TEST_SLOW, tests/vm/guest.sh).  Timeouts,
# deadlines and time budgets are multiplied by it, and so are the timings
# a test sets up when what it checks is measured against the wall clock
# (a backoff, a grace period); what a test asserts about order and
# behaviour never changes.
SLOW=${PODVISOR_TEST_SLOW:-1}
case $SLOW in '' | *[!0-9]* | 0) SLOW=1 ;; esac
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
# Paths come from `podvisor shim paths` (supervisor/proto/podpaths.h), never
# recomputed here.  The run directory's (key) paths never change for a name;
# the instance's (uid, data, logs, cgroup) are those of the snapshot there,
# remembered so that they stay known after the pod is gone.
declare -A _RUN_DIR _UID _DATA_DIR _LOG_DIR _CGROUP
_paths() { # _paths NAME [NS]: refreshes what is known of pod NAME
  local POD_RUN_DIR= POD_UID= POD_DATA_DIR= POD_LOG_DIR= POD_CGROUP=
  eval "$("$PV" --root "$R" --run-root "$RR" shim paths --pod "$1" --namespace "${2:-default}")" || return 1
  _RUN_DIR[$1]=$POD_RUN_DIR
  if [ -n "$POD_UID" ]; then
    _UID[$1]=$POD_UID _DATA_DIR[$1]=$POD_DATA_DIR _LOG_DIR[$1]=$POD_LOG_DIR _CGROUP[$1]=$POD_CGROUP
  fi
}
rundir_of() { [ -n "${_RUN_DIR[$1]:-}" ] || _paths "$1"; echo "${_RUN_DIR[$1]}"; }
status_of() { echo "$(rundir_of "$1")/status.json"; }
sock_of() { echo "$(rundir_of "$1")/shim.sock"; }
# _instance NAME: what is known of the pod's current instance (or of its
# last one, once it is gone); a pod just started gets 5 s (times SLOW) to
# write its snapshot.
_instance() {
  local _i
  for _i in $(seq $((100 * SLOW))); do
    _paths "$1" && [ -n "${_UID[$1]:-}" ] && return 0
    sleep 0.05
  done
  return 1
}
uid_of() { _instance "$1"; echo "${_UID[$1]:-}"; }
logdir_of() { _instance "$1"; echo "${_LOG_DIR[$1]:-}"; }
poddir_of() { _instance "$1"; echo "${_DATA_DIR[$1]:-}"; }
# The pod cgroup, relative to a hierarchy's root: podvisor/<uid>.
cgroup_of() { _instance "$1"; echo "${_CGROUP[$1]:-}"; }
# The cgroup layout podvisor uses here: CGROUP2 is 1 when /sys/fs/cgroup is
# the unified hierarchy (every cgroup one directory there), 0 with v1
# hierarchies (a directory per hierarchy; a hybrid host's unified cgroup2
# at /sys/fs/cgroup/unified is not podvisor's).
CGROUP2=0
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && CGROUP2=1
# cgroup_dirs CG: the directories of cgroup CG (podvisor/<uid>[/NAME]) that
# exist, in every hierarchy; nothing once it is gone.
cgroup_dirs() {
  local d
  if [ "$CGROUP2" = 1 ]; then
    [ -d "/sys/fs/cgroup/$1" ] && echo "/sys/fs/cgroup/$1"
  else
    for d in /sys/fs/cgroup/*/"$1"; do [ -d "$d" ] && echo "$d"; done
  fi
  return 0
}
# cgroup_procs_dir CG: where the processes of cgroup CG are listed: the
# pids hierarchy on v1, the unified directory on v2.
cgroup_procs_dir() {
  if [ "$CGROUP2" = 1 ]; then echo "/sys/fs/cgroup/$1"; else echo "/sys/fs/cgroup/pids/$1"; fi
}
# start_shim FILE NAME [extra shim args...]: runs the shim in the background
# (`shim run`: the snapshot keeps the run directory's instance uid).
start_shim() {
  local f=$1 n=$2; shift 2
  setsid "$PV" --root "$R" --run-root "$RR" shim run --pod "$n" "$f" "$@" </dev/null >>"$T/shim-$n.log" 2>&1 &
  LAST_SHIM=$!
  SHIM_PIDS="$SHIM_PIDS $LAST_SHIM"
}
# stop_shim PID: SIGTERM and wait (max 20 s, times SLOW).
stop_shim() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq $((200 * SLOW))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
# jq_status NAME FILTER: jq on the pod's status file ("" when absent).
jq_status() { jq -r "$2" "$(status_of "$1")" 2>/dev/null || true; }
# wait_for NAME FILTER VALUE [timeout_s]: the deadline is twice the timeout
# (the suite runs two tests at once; the timeout is what the step takes on
# an idle machine), times SLOW, counted in seconds (SECONDS), not in polls:
# a poll takes much longer than its 50 ms sleep on a slow machine.
wait_for() {
  local n=$1 f=$2 v=$3 t=${4:-10} end
  end=$((SECONDS + 2 * t * SLOW))
  while [ "$SECONDS" -le "$end" ]; do
    [ "$(jq_status "$n" "$f")" = "$v" ] && { _paths "$n"; return 0; }
    sleep 0.05
  done
  echo "timeout: $n $f != $v (is '$(jq_status "$n" "$f")')" >&2
  cat "$T/shim-$n.log" >&2 2>/dev/null
  return 1
}
# ts_ns "2024-05-01T12:34:56.000000001Z" -> ns since the epoch
ts_ns() { date -u -d "$1" +%s%N; }
# pid_in_cgroup NAME CONTAINER CMDLINE: the host pid of the process of that
# container of pod NAME whose command line is CMDLINE (arguments joined by
# spaces, with a trailing space), from its cgroup; "" after 5 s (times
# SLOW).
pid_in_cgroup() {
  local p _ dir
  dir=$(cgroup_procs_dir "$(cgroup_of "$1")/$2")
  for _ in $(seq $((100 * SLOW))); do
    for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do
      [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$3" ] && { echo "$p"; return 0; }
    done
    sleep 0.05
  done
  return 1
}
