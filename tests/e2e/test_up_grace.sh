#!/bin/bash
# A container that ignores SIGTERM is killed after terminationGracePeriodSeconds,
# on the pod's stop and on a `restart` through the control socket; a second
# `restart` during the grace period does not postpone the SIGKILL.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo up; while true; do sleep 0.1; done"]
Y
start_shim "$T/pod.yaml" stubborn
wait_for stubborn '.containerStatuses[0].state.running != null' true 10 || fail "not running"
cg=$(cgroup_of stubborn)
[ -n "$cg" ] || fail "no cgroup known for the pod"
pd=$(poddir_of stubborn)
sleep 0.3
t0=$(date +%s%N)
stop_shim "$LAST_SHIM" || fail "shim did not stop"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stop took $ms ms"
[ "$ms" -ge 1000 ] && [ "$ms" -lt $((1000 + 4000 * SLOW)) ] || fail "stop took $ms ms, expected 1000..$((1000 + 4000 * SLOW))"
[ ! -e "$(rundir_of stubborn)" ] || fail "run dir left behind"
[ ! -e "$pd" ] || fail "pod dir left behind"
left=$(cgroup_dirs "$cg"); [ -z "$left" ] || fail "cgroup left behind: $left"
ok "SIGKILL after the grace period"

# A second `restart` while the container is still in its grace period after
# the first one must not postpone its SIGKILL: the deadline stays the first
# restart's (grace G = 2 s, times SLOW: the second request must come while
# the test can still see the first one's grace period).  The times are the
# status's: the run's end and the next run's start, against the first
# request.
cat > "$T/twice.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: twice
spec:
  terminationGracePeriodSeconds: $((2 * SLOW))
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]
Y
start_shim "$T/twice.yaml" twice
wait_for twice '.containerStatuses[0].state.running != null' true 10 || fail "never ran"
sock=$(sock_of twice)
t0=$(date +%s%N)
"$PV" shim ctl "$sock" restart c | grep -qx ok || fail "first restart"
G=$((2000 * SLOW))
wait_for twice '.containerStatuses[0].podvisor.fsm' Stopping 2 || fail "not in its grace period after the first restart"
# The second request at 3/4 of the grace period (1.5 s of 2), while it runs.
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt $((G * 3 / 4)) ]; do sleep 0.05; done
[ "$(jq_status twice '.containerStatuses[0].podvisor.fsm')" = Stopping ] || fail "the grace period ended before $((G * 3 / 4)) ms: $(jq_status twice '.containerStatuses[0].podvisor.fsm')"
"$PV" shim ctl "$sock" restart c | grep -qx ok || fail "second restart"
wait_for twice '.containerStatuses[0].restartCount == 1 and .containerStatuses[0].state.running != null' true 5 || fail "no restart"
killed=$(( ($(ts_ns "$(jq_status twice '.containerStatuses[0].lastState.terminated.finishedAt')") - t0) / 1000000 ))
ms=$(( ($(ts_ns "$(jq_status twice '.containerStatuses[0].state.running.startedAt')") - t0) / 1000000 ))
echo "killed after $killed ms, restarted after $ms ms"
# A postponed SIGKILL would come at 7/4 G (3.5 s of 2 s).
[ "$killed" -ge $((G - 100)) ] || fail "SIGKILL before the grace period ended: $killed ms"
[ "$ms" -lt $((G * 8 / 5)) ] || fail "SIGKILL postponed: restart took $ms ms"
stop_shim "$LAST_SHIM" || fail stop
ok "a repeated restart keeps the first SIGKILL deadline"
