#!/bin/bash
# The shim watches every container's exit (a pidfd per process, polled by
# the loop), and keeps each watch while other containers come and go.  A
# pidfd's number is reused at once by the next one: a container restarting
# with zero backoff and exec probes closing and opening pidfds all the time
# must not cost another container its exit watch (a poll handle closed after
# its fd would unregister whatever fd took the number).  After hundreds of
# restarts next to it, the steady container's death is still seen at once:
# the status records its end within a second of the kill.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: fdreuse
  annotations:
    podvisor.io/backoff-initial: "0s"
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: churn
    image: busybox
    command: ["true"]
    livenessProbe:
      exec:
        command: ["true"]
      periodSeconds: 1
  - name: steady
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec:
        command: ["true"]
      periodSeconds: 1
Y
start_shim "$T/pod.yaml" fdreuse
wait_for fdreuse '.containerStatuses[0].restartCount >= 300' true 30 || fail "churn did not restart 300 times"
wait_for fdreuse '.containerStatuses[1].state.running != null' true 5 || fail "steady not running"
[ "$(jq_status fdreuse '.containerStatuses[1].restartCount')" = 0 ] || fail "steady restarted"
pid=$(jq_status fdreuse '.containerStatuses[1].podvisor.pid')
[ -n "$pid" ] && [ "$pid" -gt 0 ] || pid=$(jq_status fdreuse '.containerStatuses[1].pid')
[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no pid for steady in the status"
t0=$(date +%s%N)
kill -9 "$pid"
wait_for fdreuse '.containerStatuses[1].restartCount' 1 3 || fail "the steady container's exit was not seen"
wait_for fdreuse '.containerStatuses[1].lastState.terminated.signal' 9 3 || fail "steady's kill not recorded"
ms=$(( ($(ts_ns "$(jq_status fdreuse '.containerStatuses[1].lastState.terminated.finishedAt')") - t0) / 1000000 ))
echo "steady's end recorded $ms ms after the kill"
[ "$ms" -lt 1000 ] || fail "steady's exit seen only $ms ms after the kill"
kill -0 "$LAST_SHIM" 2>/dev/null || fail "shim died"
n=$(jq_status fdreuse '.containerStatuses[0].restartCount')
stop_shim "$LAST_SHIM" || fail "shim did not stop"
grep -q "Assertion\|ERROR: AddressSanitizer\|runtime error\|Bad file descriptor" "$T/shim-fdreuse.log" && fail "$(cat "$T/shim-fdreuse.log")"
ok "pidfd reuse: the steady container's exit watch survives $n restarts next to it"
