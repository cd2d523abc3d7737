#!/bin/bash
# A sidecar (init container with restartPolicy Always) starts before the app,
# keeps running while the app runs, and is stopped after the app completes.
# Sidecars also stop through the normal path when the pod is not being
# stopped: (1) the app completed and the sidecar's preStop hook hangs: the
# grace period bounds the hook, then SIGTERM, then SIGKILL; (2) an init
# container fails under restartPolicy Never: running sidecars are stopped.
# A stopped sidecar refuses a manual restart.
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
    command: ["sh", "-c", "echo app-up; sleep $SLOW; echo app-done"]
Y
start_shim "$T/pod.yaml" side
# The first status snapshot with the app running tells whether the sidecar
# runs beside it (two reads could straddle the app's end).
with_app=""
for _ in $(seq $((200 * SLOW))); do
  with_app=$(jq_status side 'if .containerStatuses[0].state.running != null then .initContainerStatuses[0].state.running != null else empty end')
  [ -n "$with_app" ] && break
  sleep 0.05
done
[ -n "$with_app" ] || fail "app never ran"
[ "$with_app" = true ] || fail "sidecar not running with the app"
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

cat > "$T/stop.yaml" <<Y
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
start_shim "$T/stop.yaml" hook
S1=$LAST_SHIM
start_shim "$T/stop.yaml" initfail
S2=$LAST_SHIM
wait_for hook '.containerStatuses[0].state.terminated.reason' Completed 10 || fail "app never completed"
# grace 2 s + 2 s extra after the hook: well within 7 s.
wait_for hook '.initContainerStatuses[0].state.terminated != null' true 7 || fail "sidecar with a hanging preStop still running"
a_fin=$(jq_status hook '.containerStatuses[0].state.terminated.finishedAt')
s_fin=$(jq_status hook '.initContainerStatuses[0].state.terminated.finishedAt')
ms=$(( ($(ts_ns "$s_fin") - $(ts_ns "$a_fin")) / 1000000 ))
echo "sidecar with a hanging preStop stopped $ms ms after the app"
[ "$ms" -ge 3900 ] && [ "$ms" -lt $((4000 + 3000 * SLOW)) ] || fail "sidecar stopped $ms ms after the app, expected 4000..7000 (the hook bounded by the grace, 2 s, then SIGTERM and SIGKILL 2 s later)"
wait_for initfail '.initContainerStatuses[1].state.terminated.reason' Error 10 || fail "init never failed"
wait_for initfail '.initContainerStatuses[0].state.terminated != null' true 5 || fail "sidecar not stopped after the init failure"
sock=$(sock_of hook)
if "$PV" shim ctl "$sock" restart side >/dev/null 2>&1; then fail "restart of a sidecar stopped for good accepted"; fi
# The shim answers status after it has handled the refused restart.
st=$("$PV" shim ctl "$sock" status) || fail "status over the socket"
[ "$(jq -r '.initContainerStatuses[0].state.terminated != null and .initContainerStatuses[0].restartCount == 0' <<<"$st")" = true ] ||
  fail "sidecar restarted: $(jq -c '.initContainerStatuses[0]' <<<"$st")"
[ "$(jq_status hook '.initContainerStatuses[0].state.terminated != null')" = true ] || fail "sidecar restarted"
stop_shim "$S1" || fail "stop hook"
stop_shim "$S2" || fail "stop initfail"
ok "sidecars stop after the apps with a bounded preStop, and after a failed init"
