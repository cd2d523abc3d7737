#!/bin/bash
# Zero backoff: a container whose image is missing fails to start again and
# again, and one that exits at once with a tcpSocket liveness probe restarts
# while its previous run's probe handles are still closing.  Neither may take
# the shim down (unbounded recursion, a probe re-armed while closing), the
# logs of old runs are pruned (current and previous run only), and the run
# times are measured per run.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: zero
  annotations:
    podvisor.io/backoff-initial: "0s"
spec:
  restartPolicy: Always
  containers:
  - name: missing
    image: nosuchimage
  - name: quick
    image: busybox
    command: ["sh", "-c", "echo run; sleep 0.05; exit 1"]
    livenessProbe:
      tcpSocket:
        port: 1
      periodSeconds: 1
Y
start_shim "$T/pod.yaml" zero
wait_for zero '.containerStatuses[1].restartCount >= 12' true 20 || fail "quick never restarted 12 times"
sleep 1
kill -0 "$LAST_SHIM" 2>/dev/null || { cat "$T/shim-zero.log" >&2; fail "shim died"; }
[ "$(jq_status zero '.containerStatuses[0].restartCount > 50')" = true ] || fail "missing image not retried"
d=$(logdir_of zero)/quick
n=$(ls "$d" | wc -l)
[ "$n" -le 3 ] || fail "old run logs kept: $(ls "$d" | tr '\n' ' ')"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
grep -q "Assertion\|ERROR: AddressSanitizer\|runtime error" "$T/shim-zero.log" && fail "$(cat "$T/shim-zero.log")"
ok "zero backoff: no recursion, no probe reuse, logs pruned"
