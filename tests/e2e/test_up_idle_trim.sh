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
    command: ["sh", "-c", "sleep $((3 * SLOW)); seq 1 5000; exec sleep 3600"]
  - name: quiet
    image: busybox
    command: ["sleep", "3600"]
Y
# The first container of a profile and capability set compiles its seccomp
# program (a burst of libseccomp allocations, ~12 ms) and keeps it in
# <root>/cache/seccomp: every later shim reads it back.  Warm that cache
# first, so the peak measured below is the pod's own start, as it is on a
# host that has run a container before.  (A sanitizer build's allocator
# keeps every heap page it ever used, and would hold that burst forever.)
"$PV" --root "$R" run --rm busybox true || fail "podvisor run, to warm the seccomp cache"
ls "$R"/cache/seccomp/*.bpf >/dev/null 2>&1 || fail "no compiled seccomp program in $R/cache/seccomp"
if [ -n "$LEAN" ]; then
  setsid "$LEAN" --root "$R" --run-root "$RR" --pod-file "$T/pod.yaml" --pod idle </dev/null >>"$T/shim-idle.log" 2>&1 &
  LAST_SHIM=$!
  SHIM_PIDS="$SHIM_PIDS $LAST_SHIM"
else
  start_shim "$T/pod.yaml" idle
fi
rss() { awk '/^Rss:/ {print $2}' "/proc/$LAST_SHIM/smaps_rollup"; }
# The shim's peak Rss while it starts the pod, sampled every 20 ms until
# both containers run, with builtins only: a slow machine must not see the
# first trim (1 s after the start's last event) before it looks.
mkfifo "$T/never"
(
  exec 3<>"$T/never" # read -t on it: a sleep without a fork
  max=0
  while [ ! -e "$T/started" ]; do
    while read -r k v _; do
      [ "$k" = Rss: ] && [ "$v" -gt "$max" ] && max=$v
    done <"/proc/$LAST_SHIM/smaps_rollup"
    echo "$max" >"$T/busy"
    read -r -t 0.02 -u 3 _
  done
) 2>/dev/null &
SAMPLER=$!
wait_for idle '[.containerStatuses[] | select(.state.running != null)] | length' 2 10 || fail "not running"
: >"$T/started"
wait "$SAMPLER"
busy=$(cat "$T/busy")
sleep $((2 * SLOW)) # the trim runs after 1 s of quiet; "late" logs after 3 s
idle=$(rss)
echo "shim Rss: $busy kB right after start, $idle kB idle"
[ "$idle" -lt $((busy * 6 / 10)) ] || fail "idle Rss $idle kB is not well below $busy kB: no trim"
# Logs written after the trim: every line, in order.
log=$(logdir_of idle)/late/0.log
for _ in $(seq $((100 * SLOW))); do [ "$(wc -l < "$log" 2>/dev/null)" -ge 5000 ] && break; sleep 0.1; done
[ "$(wc -l < "$log")" -eq 5000 ] || fail "late log has $(wc -l < "$log") lines, want 5000"
cmp -s <(seq 1 5000) <(sed 's/^[^ ]* stdout F //' "$log") ||
  fail "late log lines are not 1..5000 in order: $(diff <(seq 1 5000) <(sed 's/^[^ ]* stdout F //' "$log") | head -6)"
# A second idle period, then a restart through the socket.
sleep 1.5
"$PV" shim ctl "$(sock_of idle)" restart quiet | grep -qx ok || fail "restart reply"
wait_for idle '.containerStatuses[1].restartCount' 1 5 || fail "restart after the trim"
wait_for idle '.containerStatuses[1].state.running != null' true 5 || fail "quiet not running again"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
ok "idle trim: Rss $busy -> $idle kB, logs whole, restart works"
