#!/bin/bash
# Two shims for the same pod: the second `up` of the same manifest is
# refused with a clear error and touches nothing of the running pod.
. "$(dirname "$0")/up_lib.sh"
marker=pv-lock-marker-$$
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: locked}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: keep
    image: busybox
    command: ["sh", "-c", "sleep 3600; : $marker"]
Y
"$PV" --root "$R" --run-root "$RR" up "$T/pod.yaml" > "$T/up1.out" 2>&1 &
up1=$!
SHIM_PIDS="$SHIM_PIDS $up1"
wait_for locked '.phase' Running 15 || fail "first pod not Running: $(cat "$T/up1.out")"
wait_for locked '.containerStatuses[0].state.running != null' true 10 || fail "container not running"
run=$(rundir_of locked)
cg=$(cgroup_of locked)
[ -n "$cg" ] || fail "no cgroup known for the pod"
sock=$run/shim.sock
for _ in $(seq 50); do [ -s "$run/shim.pid" ] && break; sleep 0.1; done
shim1=$(cat "$run/shim.pid")
c1=$(pgrep -f ": $marker") || fail "container process not found"
[ "$(echo "$c1" | wc -w)" = 1 ] || fail "several container processes: $c1"
if timeout 30 "$PV" --root "$R" --run-root "$RR" up "$T/pod.yaml" > "$T/up2.out" 2>&1; then
  fail "second up of a running pod succeeded: $(cat "$T/up2.out")"
fi
grep -q "pod default/locked is already kept by shim $shim1" "$T/up2.out" ||
  fail "no clear error: $(cat "$T/up2.out")"
sleep 0.5
kill -0 "$c1" 2>/dev/null || fail "the first pod's container was killed"
[ "$(pgrep -f ": $marker")" = "$c1" ] || fail "container pid changed"
[ -S "$sock" ] || fail "the first shim's socket was unlinked"
"$PV" shim ctl "$sock" status | jq -e '.phase == "Running"' >/dev/null || fail "first shim does not answer status"
[ "$(cat "$run/shim.pid")" = "$shim1" ] || fail "shim.pid rewritten"
ok "second shim refused, first pod untouched"
# A clean stop removes everything, the lock file included.
kill -TERM "$up1"
wait "$up1"; rc=$?
[ "$rc" = 0 ] || fail "first up exited $rc: $(cat "$T/up1.out")"
kill -0 "$c1" 2>/dev/null && fail "container still running after stop"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run-root left: $(ls -R "$RR/pods")"
[ -z "$(ls -A "$R/pods" 2>/dev/null)" ] || fail "pod dir left: $(ls -R "$R/pods")"
left=$(cgroup_dirs "$cg"); [ -z "$left" ] || fail "cgroup left behind: $left"
ok "clean stop leaves nothing, lock file included"
# The lock dies with a SIGKILLed keeper: the next shim takes the pod over.
start_shim "$T/pod.yaml" locked
wait_for locked '.phase' Running 15 || fail "pod not Running again"
kill -9 "$LAST_SHIM"; wait "$LAST_SHIM" 2>/dev/null
for _ in $(seq 50); do pgrep -f ": $marker" >/dev/null || break; sleep 0.1; done
start_shim "$T/pod.yaml" locked
for _ in $(seq 100); do [ "$(cat "$run/shim.pid" 2>/dev/null)" = "$LAST_SHIM" ] && break; sleep 0.1; done
[ "$(cat "$run/shim.pid" 2>/dev/null)" = "$LAST_SHIM" ] || fail "no shim after kill -9: $(cat "$T/shim-locked.log")"
wait_for locked '.phase' Running 15 || fail "pod not Running after kill -9 takeover"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
[ -z "$(ls -A "$RR/pods" 2>/dev/null)" ] || fail "run-root left after takeover: $(ls -R "$RR/pods")"
ok "lock released by kill -9"
