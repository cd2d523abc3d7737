#!/bin/bash
# A container whose liveness probe failed but that exits by itself while its
# preStop hook still runs (before any SIGTERM) was not killed by the probe:
# its termination keeps its own exit code and no "Liveness probe failed".
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: nat
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 3"]
    lifecycle:
      preStop:
        exec:
          command: ["sleep", "5"]
    livenessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
      failureThreshold: 1
Y
start_shim "$T/pod.yaml" nat
wait_for nat '.containerStatuses[0].state.terminated.exitCode' 3 10 || fail "no natural exit"
msg=$(jq_status nat '.containerStatuses[0].state.terminated.message // ""')
case "$msg" in *Liveness*) fail "natural exit reported as a liveness kill: $msg" ;; esac
stop_shim "$LAST_SHIM" || fail stop
ok "a natural exit during preStop is not a probe kill"
