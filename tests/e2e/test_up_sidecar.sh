#!/bin/bash
# A sidecar (init container with restartPolicy Always) starts before the app,
# keeps running while the app runs, and is stopped after the app completes.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: side
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  initContainers:
  - name: helper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "trap 'echo helper-bye; exit 0' TERM; echo helper-up; while true; do sleep 0.05; done"]
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo app-up; sleep 1; echo app-done"]
Y
start_shim "$T/pod.yaml" side
wait_for side '.containerStatuses[0].state.running != null' true 10 || fail "app never ran"
[ "$(jq_status side '.initContainerStatuses[0].state.running != null')" = true ] || fail "sidecar not running with the app"
wait_for side .phase Succeeded 10 || fail "pod not Succeeded"
wait_for side '.initContainerStatuses[0].state.terminated != null' true 10 || fail "sidecar not stopped"
d=$(logdir_of side)
h_up=$(ts_ns "$(grep -m1 helper-up "$d/helper/0.log" | cut -d' ' -f1)")
a_up=$(ts_ns "$(grep -m1 app-up "$d/app/0.log" | cut -d' ' -f1)")
a_done=$(ts_ns "$(grep -m1 app-done "$d/app/0.log" | cut -d' ' -f1)")
h_bye=$(ts_ns "$(grep -m1 helper-bye "$d/helper/0.log" | cut -d' ' -f1)") || fail "sidecar got no SIGTERM"
[ "$h_up" -lt "$a_up" ] || fail "sidecar started after the app"
[ "$h_bye" -gt "$a_done" ] || fail "sidecar stopped before the app finished"
[ "$(jq_status side '.initContainerStatuses[0].restartCount')" = 0 ] || fail "sidecar restarted"
stop_shim "$LAST_SHIM" || fail stop
ok "sidecar lifecycle"
