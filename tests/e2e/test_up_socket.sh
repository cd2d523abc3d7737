#!/bin/bash
# The shim's control socket: status, restart (bypassing backoff), update,
# exec, stop.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: ctl
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: crash
    image: busybox
    command: ["sh", "-c", "exit 1"]
  - name: web
    image: busybox
    command: ["sh", "-c", "echo version-1; exec sleep 3600"]
Y
cat > "$T/new.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: ctl
spec:
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "echo version-2; exec sleep 3600"]
Y
start_shim "$T/pod.yaml" ctl
sock=$(sock_of ctl)
ctl() { "$PV" shim ctl "$sock" "$@"; }
wait_for ctl '.containerStatuses[0].state.waiting.reason' CrashLoopBackOff 10 || fail "no CrashLoopBackOff"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock")"
ctl status | jq -e '.phase == "Running"' >/dev/null || fail "status over the socket"
# Default backoff is 10 s: a manual restart must not wait for it.
ctl restart crash | grep -qx ok || fail "restart reply"
wait_for ctl '.containerStatuses[0].restartCount' 1 3 || fail "restart did not bypass the backoff"
ctl restart nosuch >/dev/null && fail "restart of an unknown container accepted"
ctl frobnicate >/dev/null && fail "unknown command accepted"
wait_for ctl '.containerStatuses[1].state.running != null' true 5 || fail "web not running"
ctl update web "$T/new.yaml" | grep -qx ok || fail "update reply"
wait_for ctl '.containerStatuses[1].restartCount' 1 10 || fail "update did not replace web"
for _ in $(seq 50); do grep -q version-2 "$(logdir_of ctl)/web/1.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'stdout F version-2$' "$(logdir_of ctl)/web/1.log" || fail "updated container did not run the new spec"
# exec: CMD's output on our stdout, its exit code ours; stdin with -i; a
# terminal of its own with -t (proxied by `shim ctl`, here under script(1)).
out=$(ctl exec web -- sh -c 'echo from-exec; echo to-stderr >&2; exit 5' 2>"$T/exec.err"); rc=$?
[ "$rc" = 5 ] || fail "exec exit code $rc"
[ "$out" = from-exec ] || fail "exec stdout '$out'"
grep -qx to-stderr "$T/exec.err" || fail "exec stderr: $(cat "$T/exec.err")"
[ "$(echo piped-in | ctl exec -i web -- cat)" = piped-in ] || fail "exec -i did not pass stdin"
ctl exec nosuch -- true 2>/dev/null && fail "exec in an unknown container accepted"
command -v script >/dev/null || fail "script(1) is needed (bsdutils)"
script -qfc "stty cols 97 rows 31; $PV shim ctl $sock exec -t web -- sh -c '[ -t 0 ] && stty size; exit 6'" "$T/tty.out" \
  </dev/null >/dev/null 2>&1
grep -q 'COMMAND_EXIT_CODE="6"' "$T/tty.out" || fail "exec -t exit code: $(cat "$T/tty.out")"
tr -d '\r' < "$T/tty.out" | grep -qx '31 97' || fail "exec -t: no terminal of the client's size: $(tail -3 "$T/tty.out")"
ok "exec: stdout, stderr, stdin, exit code, a terminal"
ctl stop | grep -qx ok || fail "stop reply"
for _ in $(seq 100); do kill -0 "$LAST_SHIM" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LAST_SHIM" 2>/dev/null && fail "shim still running after stop"
ok "socket: status, restart, update, exec, stop"
