#!/bin/bash
# "stop" on the control socket is answered also when nothing runs (the shim
# finishes at once): the reply is written before the connection closes.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - name: once
    image: busybox
    command: ["true"]
Y
start_shim "$T/pod.yaml" done
sock=$(sock_of done)
wait_for done '.containerStatuses[0].state.terminated.exitCode' 0 15 || fail "container did not complete"
out=$("$PV" shim ctl "$sock" stop) || fail "stop failed: $out"
[ "$out" = ok ] || fail "stop reply was '$out', not ok"
for _ in $(seq 100); do kill -0 "$LAST_SHIM" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LAST_SHIM" 2>/dev/null && fail "shim still running after stop"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run-root left: $(ls -R "$RR/pods")"
ok "stop with nothing running replies ok and the shim exits"
