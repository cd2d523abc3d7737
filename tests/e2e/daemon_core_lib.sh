# daemon_core_lib.sh - helpers for the end-to-end tests of the daemon's core (sourced
# after up_lib.sh's set-up, whose --root, --run-root and busybox image they
# use).  The daemon watches $M; its log (stderr, logfmt) goes to $T/daemon.log
# and, for the daemon started last, is where the events are read
# (`msg="event" pod=NS/NAME reason=R ... message="..."`).  Pod state comes
# from the status files (up_lib.sh: jq_status), never recomputed paths.
. "$(dirname "${BASH_SOURCE[0]}")/up_lib.sh"
M=$T/manifests
mkdir -p "$M"
DAEMON_PID=""
DLOG=$T/daemon.log
# start_daemon [flags...]: a daemon in the background; waits for "ready".
start_daemon() {
  : >"$DLOG"
  setsid "$PV" --root "$R" --run-root "$RR" daemon --manifests "$M" --config "$T/daemon.yaml" \
    --log-level debug "$@" </dev/null 2>>"$DLOG" >/dev/null &
  DAEMON_PID=$!
  local _
  for _ in $(seq $((200 * SLOW))); do grep -q 'msg="ready"' "$DLOG" && return 0; kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
  cat "$DLOG" >&2
  fail "the daemon did not start"
}
: >"$T/daemon.yaml"
# stop_daemon [SIGNAL]: signals the daemon (TERM) and waits for its exit (30 s
# times SLOW); its code in DAEMON_RC.
stop_daemon() {
  local sig=${1:-TERM} _
  kill -"$sig" "$DAEMON_PID" 2>/dev/null
  for _ in $(seq $((300 * SLOW))); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$DAEMON_PID" 2>/dev/null && { cat "$DLOG" >&2; fail "the daemon did not exit after SIG$sig"; }
  wait "$DAEMON_PID" 2>/dev/null
  DAEMON_RC=$?
  DAEMON_PID=""
  # Under the sanitizer build a report (a leak at exit too) fails the test.
  if grep -q 'Sanitizer' "$DLOG"; then cat "$DLOG" >&2; fail "the daemon's sanitizer report (above)"; fi
}
# The keepers of this test's run-root (their pids from shim.pid).
shim_pids() { cat "$RR"/pods/*/shim.pid 2>/dev/null | while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done; }
daemon_cleanup() {
  [ -n "$DAEMON_PID" ] && { kill -TERM "$DAEMON_PID" 2>/dev/null; for _ in $(seq 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done; kill -9 "$DAEMON_PID" 2>/dev/null; }
  local p
  for p in $(shim_pids); do kill -TERM "$p" 2>/dev/null; done
  for p in $(shim_pids); do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; done
  cleanup
}
trap daemon_cleanup EXIT
# pod_yaml NAME [extra container lines...]: a pod with containers a and b
# (sleeps) and a 2 s grace period on stdout.
pod_yaml() {
  cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: busybox
    command: ["sleep", "${2:-1001}"]
  - name: b
    image: busybox
    command: ["sleep", "${3:-1002}"]
Y
}
# pid_of NAME CONTAINER: the container's pid in the pod's status.
pid_of() { jq_status "$1" ".containerStatuses[] | select(.name == \"$2\") | .podvisor.pid // empty"; }
# running NAME: every container of the pod runs (its status says so).
all_running='[.containerStatuses[] | .state.running != null] | all'
wait_running() { wait_for "$1" "$all_running" true "${2:-20}"; }
# wait_log PATTERN [timeout_s]: a line of the daemon's log matches (grep -E);
# the timeout is times SLOW.
wait_log() {
  local _ t=${2:-10}
  for _ in $(seq $((t * 20 * SLOW))); do grep -Eq -- "$1" "$DLOG" && return 0; sleep 0.05; done
  echo "timeout: no log line matching: $1" >&2
  return 1
}
# wait_gone NAME [timeout_s]: the pod's run directory is gone (timeout times
# SLOW).
wait_gone() {
  local _ t=${2:-20} d
  d=$(rundir_of "$1")
  for _ in $(seq $((t * 20 * SLOW))); do [ ! -e "$d" ] && return 0; sleep 0.05; done
  return 1
}
# no_cgroup CGROUP: no hierarchy holds the cgroup podvisor/<uid>.
no_cgroup() { local h; for h in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do [ -e "$h" ] && return 1; done; return 0; }
