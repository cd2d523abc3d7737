#!/bin/bash
# A shim restarted for the same pod carries its predecessor's backoff state:
# the consecutive-exit count and start times, and a container waiting in
# CrashLoopBackOff keeps waiting until the same deadline (it is not started
# at once); a container stopped by its start limit stays down; under
# restartPolicy Never, a completed container is not run again and one that
# was running is counted as killed (exit 137, Error) and stays down.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: again
  annotations:
    podvisor.io/backoff-initial: "$((2 * SLOW))s"
    podvisor.io/backoff-max: "$((8 * SLOW))s"
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: crash
    image: busybox
    command: ["sh", "-c", "exit 3"]
Y
start_shim "$T/pod.yaml" again
# Two exits: the second wait is 4 s (the backoffs are times SLOW, up_lib.sh:
# the test must see each wait before it ends, across a shim restart).
wait_for again '.containerStatuses[0].restartCount' 1 15 || fail "no first restart"
wait_for again '.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff" and .containerStatuses[0].restartCount == 1' true 15 ||
  fail "not back in CrashLoopBackOff"
exits=$(jq_status again '.containerStatuses[0].podvisor.backoff.exits')
starts=$(jq_status again '.containerStatuses[0].podvisor.backoff.startsMs | length')
deadline=$(jq_status again '.containerStatuses[0].podvisor.nextRestartAt')
[ "$exits" = 2 ] && [ "$starts" = 2 ] || fail "backoff state exits=$exits starts=$starts"
kill -9 "$LAST_SHIM"
start_shim "$T/pod.yaml" again
wait_for again .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
# One snapshot of the status decides.
now=$(jq_status again '.containerStatuses[0] | "\(.state.waiting.reason) \(.restartCount)"')
[ "${now% *}" = CrashLoopBackOff ] ||
  fail "the new shim did not keep waiting: $(jq_status again '.containerStatuses[0].state')"
[ "${now#* }" = 1 ] || fail "restart count changed: $now"
[ "$(jq_status again '.containerStatuses[0].podvisor.backoff.exits')" = 2 ] || fail "exit count not carried"
d2=$(jq_status again '.containerStatuses[0].podvisor.nextRestartAt')
dd=$(( ($(ts_ns "$d2") - $(ts_ns "$deadline")) / 1000000 ))
[ "${dd#-}" -le 5 ] || fail "deadline moved by $dd ms ($deadline -> $d2)"
ok "backoff count, start times and deadline survive a shim restart"
# After the deadline it restarts; the third exit then waits 8 s (the count
# went on from 2, not from 0).
wait_for again '.containerStatuses[0].restartCount >= 2 and .containerStatuses[0].state.waiting.reason == "CrashLoopBackOff"' true 15 ||
  fail "no restart after the carried deadline"
msg=$(jq_status again '.containerStatuses[0].state.waiting.message')
[[ "$msg" == "back-off $((8 * SLOW))s "* ]] || fail "third wait: '$msg' (expected back-off $((8 * SLOW))s)"
stop_shim "$LAST_SHIM" || fail stop
ok "the backoff sequence goes on where the predecessor left it"

cat > "$T/limit.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: limited
  annotations:
    podvisor.io/backoff-initial: "0"
    podvisor.io/start-limit: "2/60s"
spec:
  containers:
  - name: crash
    image: busybox
    command: ["sh", "-c", "exit 3"]
Y
start_shim "$T/limit.yaml" limited
wait_for limited '.containerStatuses[0].state.waiting.reason' StartLimitReached 15 || fail "start limit not reached"
n=$(jq_status limited '.containerStatuses[0].restartCount')
kill -9 "$LAST_SHIM"
start_shim "$T/limit.yaml" limited
wait_for limited .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
sleep "$SLOW"
[ "$(jq_status limited '.containerStatuses[0].state.waiting.reason')" = StartLimitReached ] ||
  fail "restarted past its start limit: $(jq_status limited '.containerStatuses[0].state')"
[ "$(jq_status limited '.containerStatuses[0].restartCount')" = "$n" ] || fail "restart count changed"
stop_shim "$LAST_SHIM" || fail stop
ok "a container stopped by its start limit stays down across a shim restart"

# restartPolicy Never: the previous shim is killed with -9 while "done" has
# completed and "long" runs.  The new shim settles the pod (Failed: long was
# killed) without running either again.
cat > "$T/never.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: never
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
start_shim "$T/never.yaml" never
wait_for never '.containerStatuses[0].state.terminated.reason' Completed 10 || fail "done never completed"
wait_for never '.containerStatuses[1].state.running != null' true 10 || fail "long not running"
kill -9 "$LAST_SHIM"; wait "$LAST_SHIM" 2>/dev/null
start_shim "$T/never.yaml" never
wait_for never .podvisor.shimPid "$LAST_SHIM" 10 || fail "no status from the new shim"
wait_for never '.containerStatuses[1].state.terminated.exitCode' 137 10 || fail "running container not counted as killed"
wait_for never .phase Failed 10 || fail "pod not Failed after its container was killed"
[ "$(jq_status never '.containerStatuses[0].state.terminated.reason')" = Completed ] || fail "completed container lost"
[ "$(wc -l < "$T/data/runs")" = 1 ] || fail "completed container ran again"
[ "$(jq_status never '.containerStatuses[1].state.terminated.reason')" = Error ] || fail "reason not Error"
[ "$(jq_status never '.containerStatuses[0].restartCount + .containerStatuses[1].restartCount')" = 0 ] || fail "a container restarted"
stop_shim "$LAST_SHIM" || fail stop
ok "a restored shim keeps finished containers down under restartPolicy Never"
