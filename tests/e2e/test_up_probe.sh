#!/bin/bash
# Probes: a failing liveness probe restarts a hung container (exec and
# tcpSocket); an httpGet readiness probe against busybox httpd sets ready.
# A failed liveness probe stops the container like Kubernetes does: preStop
# first, SIGKILL after the probe's own terminationGracePeriodSeconds (not the
# pod's 30 s); under OnFailure it restarts even when it exits 0 on SIGTERM.
# A huge pod grace period saturates: the pod stop still runs preStop.  A
# container that exits by itself while the preStop of a probe kill still runs
# was not killed by the probe.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: probed
  annotations:
    podvisor.io/backoff-initial: "10ms"
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hung
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
      failureThreshold: 1
  - name: closed
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      tcpSocket:
        port: 1
      periodSeconds: 1
      failureThreshold: 2
  - name: web
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      httpGet:
        path: /index.html
        port: 8080
      periodSeconds: 1
    livenessProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
Y
start_shim "$T/pod.yaml" probed
wait_for probed '.containerStatuses[0].restartCount >= 1' true 15 || fail "exec liveness did not restart"
wait_for probed '.containerStatuses[1].restartCount >= 1' true 15 || fail "tcp liveness did not restart"
wait_for probed '.containerStatuses[2].ready' true 10 || fail "http readiness never ready"
[ "$(jq_status probed '.containerStatuses[2].restartCount')" = 0 ] || fail "healthy web restarted"
[ "$(jq_status probed '.containerStatuses[0].lastState.terminated.reason')" = Error ] || fail "lastState reason"
stop_shim "$LAST_SHIM" || fail stop
ok "liveness restarts, readiness"

mkdir -p "$T/data"
cat > "$T/kill.yaml" <<Y
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
start_shim "$T/kill.yaml" huge
H=$LAST_SHIM
start_shim "$T/kill.yaml" pk
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

# The liveness probe fails at once, the preStop hook sleeps 5 s, and the
# container exits by itself (3) after 1 s, before any SIGTERM: its
# termination keeps its own exit code and no "Liveness probe failed".
cat > "$T/nat.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: nat
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "sleep 1; exit 3"]
    lifecycle:
      preStop:
        exec:
          command: ["sleep", "5"]
    livenessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
      failureThreshold: 1
Y
start_shim "$T/nat.yaml" nat
wait_for nat '.containerStatuses[0].state.terminated.exitCode' 3 10 || fail "no natural exit"
msg=$(jq_status nat '.containerStatuses[0].state.terminated.message // ""')
case "$msg" in *Liveness*) fail "natural exit reported as a liveness kill: $msg" ;; esac
stop_shim "$LAST_SHIM" || fail stop
ok "a natural exit during preStop is not a probe kill"
