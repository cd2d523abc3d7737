#!/bin/bash
# One bad pod does not hurt another: a pod whose shim cannot set it up (a
# hostPath of type Directory that does not exist) is reported, the other pod
# keeps running, and `up` exits 1 after Ctrl-C.  The shim's stderr goes to
# its shim.log, not to up's stderr pipe, and up copies its lines.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/good.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
Y
cat > "$T/broken.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: v
    hostPath: {path: $T/does-not-exist, type: Directory}
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts: [{name: v, mountPath: /v}]
Y
"$PV" --root "$R" --run-root "$RR" up "$T/good.yaml" "$T/broken.yaml" > "$T/up.out" 2> "$T/up.err" &
up=$!
SHIM_PIDS="$up"
for _ in $(seq 100); do grep -q "pod broken: shim exited" "$T/up.err" && break; sleep 0.1; done
grep -q "pod broken: shim exited with status" "$T/up.err" || fail "the broken pod was not reported: $(cat "$T/up.err")"
grep -q "pod broken: .*does-not-exist" "$T/up.err" || fail "the shim's error was not copied: $(cat "$T/up.err")"
wait_for good '.containerStatuses[0].state.running != null' true 10 || fail "good pod not running"
sleep 1
kill -0 $up 2>/dev/null || fail "up exited after one pod failed"
[ "$(jq_status good .phase)" = Running ] || fail "the good pod was stopped: $(jq_status good .phase)"
ok "a failing pod is reported and the other keeps running"
kill -INT $up
rc=0; wait $up || rc=$?
[ $rc -eq 1 ] || fail "up exited $rc after a pod failed, want 1"
[ ! -e "$(status_of good)" ] || fail "the good pod was left behind"
ok "up exits 1 at the end"
