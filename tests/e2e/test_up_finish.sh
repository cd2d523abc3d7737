#!/bin/bash
# `podvisor up` exits by itself once every pod has reached Succeeded or
# Failed (0 when all succeeded, 1 otherwise), and keeps running while a pod
# with restartPolicy Always is there.
. "$(dirname "$0")/up_lib.sh"
pod() { # pod NAME POLICY COMMAND
  cat <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "$3"]
Y
}
pod done Never "echo done" > "$T/done.yaml"
pod second OnFailure "exit 0" > "$T/second.yaml"
pod failing Never "exit 3" > "$T/failing.yaml"
pod forever Always "trap 'exit 0' TERM; while true; do sleep 1 & wait \$!; done" > "$T/forever.yaml"
run_up() { # run_up OUT FILES... : up in the background, pid in $up
  local out=$1; shift
  "$PV" --root "$R" --run-root "$RR" up "$@" > "$out" 2>&1 &
  up=$!
}
wait_exit() { # wait_exit PID SECONDS: 0 when it exited in time
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
run_up "$T/a.out" "$T/done.yaml" "$T/second.yaml"
wait_exit "$up" 20 || { kill -9 "$up"; fail "up did not exit after its pods succeeded: $(cat "$T/a.out")"; }
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc: $(cat "$T/a.out")"
grep -q '^podvisor up: pod done Succeeded$' "$T/a.out" || fail "no Succeeded line: $(cat "$T/a.out")"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "pods left behind: $(ls "$RR/pods")"
ok "up exits 0 once every pod succeeded"

run_up "$T/b.out" "$T/done.yaml" "$T/failing.yaml"
wait_exit "$up" 20 || { kill -9 "$up"; fail "up did not exit after a pod failed: $(cat "$T/b.out")"; }
wait "$up"; rc=$?
[ "$rc" = 1 ] || fail "up exited $rc with a failed pod: $(cat "$T/b.out")"
grep -q '^podvisor up: pod failing Failed$' "$T/b.out" || fail "no Failed line: $(cat "$T/b.out")"
ok "up exits 1 when a pod failed"

run_up "$T/c.out" "$T/done.yaml" "$T/forever.yaml"
for _ in $(seq 100); do grep -q 'pod done Succeeded' "$T/c.out" && break; sleep 0.1; done
grep -q 'pod done Succeeded' "$T/c.out" || fail "done never succeeded: $(cat "$T/c.out")"
sleep 1
kill -0 "$up" 2>/dev/null || fail "up exited although a restartPolicy Always pod runs: $(cat "$T/c.out")"
kill -TERM "$up"
wait_exit "$up" 20 || { kill -9 "$up"; fail "up did not stop on SIGTERM"; }
wait "$up"; rc=$?
[ "$rc" = 0 ] || fail "up exited $rc after SIGTERM: $(cat "$T/c.out")"
ok "up keeps running while a restartPolicy Always pod is there"
