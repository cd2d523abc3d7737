#!/bin/bash
# Sidecars stop through the normal path in two cases the pod is not being
# stopped: (1) the app completed and the sidecar's preStop hook hangs: the
# grace period bounds the hook, then SIGTERM, then SIGKILL; (2) an init
# container fails under restartPolicy Never: running sidecars are stopped.
# A stopped sidecar refuses a manual restart.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: hook
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]
    lifecycle:
      preStop:
        exec:
          command: ["sleep", "3600"]
  containers:
  - name: app
    image: busybox
    command: ["true"]
---
apiVersion: v1
kind: Pod
metadata:
  name: initfail
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "while true; do sleep 0.05; done"]
  - name: bad
    image: busybox
    command: ["false"]
  containers:
  - name: app
    image: busybox
    command: ["true"]
Y
start_shim "$T/pod.yaml" hook
S1=$LAST_SHIM
start_shim "$T/pod.yaml" initfail
S2=$LAST_SHIM
wait_for hook '.containerStatuses[0].state.terminated.reason' Completed 10 || fail "app never completed"
# grace 2 s + 2 s extra after the hook: well within 7 s.
wait_for hook '.initContainerStatuses[0].state.terminated != null' true 7 || fail "sidecar with a hanging preStop still running"
wait_for initfail '.initContainerStatuses[1].state.terminated.reason' Error 10 || fail "init never failed"
wait_for initfail '.initContainerStatuses[0].state.terminated != null' true 5 || fail "sidecar not stopped after the init failure"
sock=$(sock_of hook)
if "$PV" shim ctl "$sock" restart side >/dev/null 2>&1; then fail "restart of a sidecar stopped for good accepted"; fi
sleep 0.3
[ "$(jq_status hook '.initContainerStatuses[0].state.terminated != null')" = true ] || fail "sidecar restarted"
stop_shim "$S1" || fail "stop hook"
stop_shim "$S2" || fail "stop initfail"
ok "sidecars stop after the apps with a bounded preStop, and after a failed init"
