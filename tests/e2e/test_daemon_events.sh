#!/bin/bash
# The events the daemon draws from its keepers' status documents (pushed on
# their watch streams): Started for each run, Failed with the exit code,
# BackOff for a container waiting in CrashLoopBackOff, OOMKilled for a
# memory hog; each also in the API's EventList, a repeat counted up.
. "$(dirname "$0")/daemon_core_lib.sh"
cat > "$M/crash.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    podvisor.io/backoff-initial: "1s"
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "sleep 0.2; exit 3"]}
Y
cat > "$M/hog.yaml" <<Y
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
start_daemon
wait_log 'pod=default/crash reason=Started container="c"' 15 || fail "no Started event"
wait_log 'pod=default/crash reason=Failed container="c" message="container c exited with code 3' 15 || fail "no Failed event with the exit code"
wait_log 'pod=default/crash reason=BackOff container="c"' 15 || fail "no BackOff event"
ok "Started, Failed (exit code 3) and BackOff events of a crashing container"
wait_log 'pod=default/hog reason=OOMKilled container="c"' 20 || fail "no OOMKilled event"
ok "an OOMKilled event for a memory hog"
# The second run's events count the first ones up (the same message).
for _ in $(seq 100); do
  n=$(curl -sS --max-time 5 --unix-socket "$RR/podvisor.sock" http://localhost/api/v1/events |
    jq '[.items[] | select(.involvedObject.name == "crash" and .reason == "BackOff")][0].count // 0')
  [ "$n" -ge 2 ] && break
  sleep 0.1
done
[ "$n" -ge 2 ] || fail "the BackOff event was not counted up (count $n)"
[ "$(curl -sS --unix-socket "$RR/podvisor.sock" http://localhost/api/v1/events |
  jq '[.items[] | select(.involvedObject.name == "crash" and .reason == "BackOff")] | length')" = 1 ] ||
  fail "a repeated event was stored twice"
ok "a repeated event is one event counted up ($n), as the API lists it"
stop_daemon
