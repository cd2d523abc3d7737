#!/bin/bash
# A restarted shim (the previous one killed with -9) does not run again an
# app container that had completed under restartPolicy Never, and counts one
# that was running as killed (exit 137, Error), which Never keeps down.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: again
spec:
  restartPolicy: Never
  containers:
  - name: done
    image: busybox
    command: ["sh", "-c", "echo ran >> /data/runs"]
    volumeMounts: [{name: d, mountPath: /data}]
  - name: long
    image: busybox
    command: ["sleep", "3600"]
  volumes:
  - name: d
    hostPath: {path: $T/data}
Y
mkdir -p "$T/data"
start_shim "$T/pod.yaml" again
wait_for again '.containerStatuses[0].state.terminated.reason' Completed 10 || fail "done never completed"
wait_for again '.containerStatuses[1].state.running != null' true 10 || fail "long not running"
kill -9 "$LAST_SHIM"; wait "$LAST_SHIM" 2>/dev/null; sleep 0.3
start_shim "$T/pod.yaml" again
wait_for again '.containerStatuses[1].state.terminated.exitCode' 137 10 || fail "running container not counted as killed"
sleep 0.5
[ "$(jq_status again '.containerStatuses[0].state.terminated.reason')" = Completed ] || fail "completed container lost"
[ "$(wc -l < "$T/data/runs")" = 1 ] || fail "completed container ran again"
[ "$(jq_status again '.containerStatuses[1].state.terminated.reason')" = Error ] || fail "reason not Error"
stop_shim "$LAST_SHIM" || fail stop
ok "restored shim keeps finished containers down"
