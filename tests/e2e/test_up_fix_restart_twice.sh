#!/bin/bash
# A second `restart` while the container is still in its grace period after
# the first one must not postpone its SIGKILL: the deadline stays the first
# restart's (grace 2 s).
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: twice
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]
Y
start_shim "$T/pod.yaml" twice
wait_for twice '.containerStatuses[0].state.running != null' true 10 || fail "never ran"
sock=$(sock_of twice)
t0=$(date +%s%N)
"$PV" shim ctl "$sock" restart c | grep -qx ok || fail "first restart"
sleep 1.5
"$PV" shim ctl "$sock" restart c | grep -qx ok || fail "second restart"
wait_for twice '.containerStatuses[0].restartCount' 1 5 || fail "no restart"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "restarted after $ms ms"
[ "$ms" -lt 3200 ] || fail "SIGKILL postponed: restart took $ms ms"
stop_shim "$LAST_SHIM" || fail stop
ok "a repeated restart keeps the first SIGKILL deadline"
