#!/bin/bash
# A memory hog over limits.memory ends Terminated/OOMKilled.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=\$x\$x; done"]
    resources:
      limits:
        memory: 16Mi
Y
start_shim "$T/pod.yaml" hog
wait_for hog .phase Failed 20 || fail "hog pod not Failed"
r=$(jq_status hog '.containerStatuses[0].state.terminated.reason')
[ "$r" = OOMKilled ] || fail "reason $r, status: $(jq_status hog '.containerStatuses[0].state')"
stop_shim "$LAST_SHIM" || fail stop
ok "OOMKilled"
