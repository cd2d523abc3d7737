# daemon_lib.sh - helpers for the end-to-end tests of `podvisor daemon` and
# its API (sourced after up_lib.sh's set-up: its own --root, --run-root and
# a manifest directory under a temp dir, busybox imported).  The daemon is
# stopped (SIGTERM, every pod with it) when the test ends.
. "$(dirname "${BASH_SOURCE[0]}")/up_lib.sh"
command -v curl >/dev/null || { echo "skipped: needs curl"; exit 77; }
command -v jq >/dev/null || { echo "skipped: needs jq"; exit 77; }
M=$T/manifests
mkdir -p "$M"
DAEMON_PID=""
SOCK=$RR/podvisor.sock
_daemon_cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID"
    for _ in $(seq 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DAEMON_PID" 2>/dev/null
  fi
  # A keeper the daemon left behind (it should leave none) is stopped too.
  for p in $(cat "$RR"/pods/*/shim.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  cleanup
}
trap _daemon_cleanup EXIT
# start_daemon [flags...]: runs the daemon in the background until its socket answers.
start_daemon() {
  "$PV" daemon --root "$R" --run-root "$RR" --manifests "$M" "$@" </dev/null >>"$T/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq $((200 * SLOW))); do
    curl -sf --unix-socket "$SOCK" http://localhost/healthz >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$T/daemon.log" >&2
  fail "the daemon did not start"
}
# stop_daemon: SIGTERM, and its exit code checked.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID"
  local rc=$?
  DAEMON_PID=""
  [ "$rc" = 0 ] || { tail -20 "$T/daemon.log" >&2; fail "the daemon exited $rc"; }
}
# api METHOD PATH [curl args...]: the body on stdout, the HTTP code in $T/code.
api() {
  local m=$1 p=$2; shift 2
  curl -sS --unix-socket "$SOCK" -X "$m" -o "$T/body" -w '%{http_code}' "$@" "http://localhost$p" >"$T/code" \
    || echo 000 >"$T/code"
  cat "$T/body"
}
code() { cat "$T/code"; }
# expect_status CODE REASON: the last api call answered a Status of that code and reason.
expect_status() {
  [ "$(code)" = "$1" ] || fail "HTTP $(code), want $1: $(cat "$T/body")"
  [ "$(jq -r .kind "$T/body")" = Status ] || fail "not a Status: $(cat "$T/body")"
  [ "$(jq -r .code "$T/body")" = "$1" ] || fail "Status code $(jq -r .code "$T/body"), want $1"
  [ "$(jq -r .reason "$T/body")" = "$2" ] || fail "Status reason $(jq -r .reason "$T/body"), want $2"
}
# pvc ARGS...: the CLI against this daemon.
pvc() { "$PV" --root "$R" --run-root "$RR" "$@"; }
# serving: the daemon still answers.
serving() {
  [ "$(curl -s --unix-socket "$SOCK" http://localhost/healthz)" = ok ] || fail "the daemon stopped serving"
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon is gone"
}
# wait_pod NAME JQ VALUE [timeout_s]: polls GET pod until jq of it gives
# VALUE (timeout times SLOW).
wait_pod() {
  local n=$1 f=$2 v=$3 t=${4:-20} got=
  for _ in $(seq $((t * 10 * SLOW))); do
    got=$(curl -s --unix-socket "$SOCK" "http://localhost/api/v1/namespaces/${NS:-default}/pods/$n" | jq -r "$f" 2>/dev/null)
    [ "$got" = "$v" ] && return 0
    sleep 0.1
  done
  echo "timeout: pod $n $f = '$got', want '$v'" >&2
  return 1
}
# pod_yaml NAME [COMMAND_WORDS] [LABEL]: a one-container pod (busybox).
pod_yaml() {
  cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels:
    app: ${3:-$1}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "${2:-sleep 1000}"]
Y
}
