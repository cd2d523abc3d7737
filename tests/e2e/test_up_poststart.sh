#!/bin/bash
# lifecycle.postStart: runs inside the container right after it starts; the
# container is not Running (nor started) until the hook returns; a failing
# hook kills the container (FailedPostStartHook) and the policy decides.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: hooked
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while [ ! -e /tmp/post ]; do sleep 0.05; done; echo saw-post; while true; do sleep 1 & wait \$!; done"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "sleep 2; echo done > /tmp/post"]
Y
start_shim "$T/pod.yaml" hooked
wait_for hooked '.containerStatuses[0].state.running != null' true 15 || fail "not Running after postStart"
f=$(logdir_of hooked)/c/0.log
for _ in $(seq 50); do grep -q 'stdout F saw-post$' "$f" 2>/dev/null && break; sleep 0.1; done
line=$(grep -m1 'stdout F saw-post$' "$f") || fail "the hook did not run inside the container: $(cat "$f" "$T/shim-hooked.log"; jq_status hooked .)"
# The hook sleeps 2 s before it writes /tmp/post, which the container
# reports at once: the container may count as started only after that.
post=$(ts_ns "${line%% *}")
started=$(ts_ns "$(jq_status hooked '.containerStatuses[0].state.running.startedAt')")
[ $((post - started)) -lt 200000000 ] || fail "Running $(((post - started) / 1000000)) ms before postStart returned"
stop_shim "$LAST_SHIM" || fail stop
ok "postStart runs in the container before it counts as Running"

cat > "$T/bad.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: badhook
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait \$!; done"]
    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "exit 3"]
Y
start_shim "$T/bad.yaml" badhook
wait_for badhook '.containerStatuses[0].state.terminated != null' true 10 || fail "not killed after a failed postStart"
msg=$(jq_status badhook '.containerStatuses[0].state.terminated.message')
[[ "$msg" == FailedPostStartHook:*"status 3"* ]] || fail "termination message '$msg'"
[ "$(jq_status badhook '.containerStatuses[0].restartCount')" = 0 ] || fail "restarted under Never"
[ "$(jq_status badhook .phase)" = Succeeded ] || [ "$(jq_status badhook .phase)" = Failed ] || fail "phase $(jq_status badhook .phase)"
stop_shim "$LAST_SHIM" || fail stop
ok "a failing postStart kills the container (FailedPostStartHook)"
