#!/bin/bash
# A failed liveness probe stops the container like Kubernetes does: preStop
# first, SIGKILL after the probe's own terminationGracePeriodSeconds (not the
# pod's 30 s); under OnFailure it restarts even when it exits 0 on SIGTERM.
# A huge pod grace period saturates: the pod stop still runs preStop.
. "$(dirname "$0")/up_lib.sh"
mkdir -p "$T/data"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: pk
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 30
  containers:
  - name: stubborn
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo x >> /data/prestop"]
    livenessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
      failureThreshold: 1
      terminationGracePeriodSeconds: 1
    volumeMounts: [{name: d, mountPath: /data}]
  - name: polite
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.05; done"]
    livenessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
      failureThreshold: 1
  volumes:
  - name: d
    hostPath: {path: $T/data}
---
apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  terminationGracePeriodSeconds: 9223372036854775807
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.05; done"]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo x > /data/huge"]
    volumeMounts: [{name: d, mountPath: /data}]
  volumes:
  - name: d
    hostPath: {path: $T/data}
Y
start_shim "$T/pod.yaml" huge
H=$LAST_SHIM
start_shim "$T/pod.yaml" pk
wait_for pk '.containerStatuses[0].restartCount >= 1' true 8 || fail "probe kill ignored the probe's grace period"
[ -s "$T/data/prestop" ] || fail "no preStop before the liveness kill"
wait_for pk '.containerStatuses[1].restartCount >= 1' true 8 || fail "OnFailure did not restart a probe-killed container that exited 0"
wait_for huge '.containerStatuses[0].state.running != null' true 10 || fail "huge never ran"
stop_shim "$H" || fail "stop huge"
[ -s "$T/data/huge" ] || fail "no preStop with a huge grace period"
grep -q "runtime error" "$T/shim-huge.log" && fail "$(cat "$T/shim-huge.log")"
# stubborn ignores SIGTERM, and the pod's grace is 30 s: stop it while it
# waits out its backoff (the liveness probe kills each run within ~2 s), as
# a stop during a run rightly takes the whole grace period.
wait_for pk '.containerStatuses[0].state.waiting != null' true 10 || fail "stubborn never back in its backoff"
stop_shim "$LAST_SHIM" || fail stop
ok "probe kills run preStop with the probe's grace; huge grace saturates"
