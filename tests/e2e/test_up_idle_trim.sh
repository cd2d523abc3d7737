#!/bin/bash
# An idle shim hands back what its bursts of work left resident (heap, stack,
# log scratch buffers, code pages: supervisor/shim/shim_mem.c), and keeps
# working afterwards: logs written after the trim are whole and in order, and
# a restart through the socket still works.
. "$(dirname "$0")/up_lib.sh"
# The keeper `up` runs: podvisor-shim beside podvisor.
LEAN=$(dirname "$PV")/podvisor-shim
[ -x "$LEAN" ] || LEAN=""
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: idle
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: late
    image: busybox
    command: ["sh", "-c", "sleep 3; seq 1 5000; exec sleep 3600"]
  - name: quiet
    image: busybox
    command: ["sleep", "3600"]
Y
if [ -n "$LEAN" ]; then
  setsid "$LEAN" --root "$R" --run-root "$RR" --pod-file "$T/pod.yaml" --pod idle </dev/null >>"$T/shim-idle.log" 2>&1 &
  LAST_SHIM=$!
  SHIM_PIDS="$SHIM_PIDS $LAST_SHIM"
else
  start_shim "$T/pod.yaml" idle
fi
rss() { awk '/^Rss:/ {print $2}' "/proc/$LAST_SHIM/smaps_rollup"; }
wait_for idle '[.containerStatuses[] | select(.state.running != null)] | length' 2 10 || fail "not running"
busy=$(rss)
sleep 2 # the trim runs after 1 s of quiet
idle=$(rss)
echo "shim Rss: $busy kB right after start, $idle kB idle"
[ "$idle" -lt $((busy * 6 / 10)) ] || fail "idle Rss $idle kB is not well below $busy kB: no trim"
# Logs written after the trim: every line, in order.
log=$(logdir_of idle)/late/0.log
for _ in $(seq 100); do [ "$(wc -l < "$log" 2>/dev/null)" -ge 5000 ] && break; sleep 0.1; done
[ "$(wc -l < "$log")" -eq 5000 ] || fail "late log has $(wc -l < "$log") lines, want 5000"
cmp -s <(seq 1 5000) <(sed 's/^[^ ]* stdout F //' "$log") ||
  fail "late log lines are not 1..5000 in order"
# A second idle period, then a restart through the socket.
sleep 1.5
"$PV" shim ctl "$(sock_of idle)" restart quiet | grep -qx ok || fail "restart reply"
wait_for idle '.containerStatuses[1].restartCount' 1 5 || fail "restart after the trim"
wait_for idle '.containerStatuses[1].state.running != null' true 5 || fail "quiet not running again"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
ok "idle trim: Rss $busy -> $idle kB, logs whole, restart works"
