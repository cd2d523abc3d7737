#!/bin/bash
# restartPolicy: OnFailure vs Never vs Always, exit 0 and exit 1.
. "$(dirname "$0")/up_lib.sh"
mk() { # name policy code
  cat > "$T/$1.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
  annotations:
    podvisor.io/backoff-initial: "50ms"
    podvisor.io/backoff-max: "100ms"
spec:
  restartPolicy: $2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "exit $3"]
Y
  start_shim "$T/$1.yaml" "$1"
}
mk onf-ok OnFailure 0
mk onf-bad OnFailure 1
mk nev-bad Never 1
mk nev-ok Never 0
mk alw-ok Always 0
wait_for onf-ok .phase Succeeded || fail "OnFailure exit 0: not Succeeded"
wait_for nev-bad .phase Failed || fail "Never exit 1: not Failed"
wait_for nev-ok .phase Succeeded || fail "Never exit 0: not Succeeded"
wait_for onf-bad '.containerStatuses[0].restartCount >= 2' true || fail "OnFailure exit 1: no restarts"
wait_for alw-ok '.containerStatuses[0].restartCount >= 2' true || fail "Always exit 0: no restarts"
[ "$(jq_status onf-ok '.containerStatuses[0].restartCount')" = 0 ] || fail "OnFailure exit 0 restarted"
[ "$(jq_status nev-bad '.containerStatuses[0].restartCount')" = 0 ] || fail "Never restarted"
[ "$(jq_status nev-bad '.containerStatuses[0].state.terminated.reason')" = Error ] || fail "Never exit 1: reason"
[ "$(jq_status onf-ok '.containerStatuses[0].state.terminated.reason')" = Completed ] || fail "reason Completed"
[ "$(jq_status alw-ok .phase)" = Running ] || fail "Always: phase $(jq_status alw-ok .phase)"
[ "$(jq_status onf-bad .phase)" = Running ] || fail "OnFailure exit 1: phase $(jq_status onf-bad .phase)"
for p in $SHIM_PIDS; do stop_shim "$p" || fail "stop"; done
ok "restart policies"
