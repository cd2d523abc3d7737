#!/bin/bash
# Probes: a failing liveness probe restarts a hung container (exec and
# tcpSocket); an httpGet readiness probe against busybox httpd sets ready.
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
