#!/bin/bash
# The restart backoff.
#   1. Against the clock: 200 ms initial, 1600 ms max (every time here times
#      SLOW, up_lib.sh: the steps must stay apart on a slow machine).  Each run logs "start"
#      (its CRI timestamp is the start time of the run) and "bye" right before
#      it exits: the gap from one run's "bye" to the next one's "start" is the
#      backoff plus the shim's restart work, without the run itself.
#   2. Each run's own length counts: failed starts after a long run double
#      the wait instead of resetting it.
#   3. Zero backoff: failed starts and quick exits with a probe, again and
#      again, do not take the shim down, and old runs' logs are pruned.
. "$(dirname "$0")/up_lib.sh"
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    podvisor.io/backoff-initial: "$((200 * SLOW))ms"
    podvisor.io/backoff-max: "$((1600 * SLOW))ms"
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo start; echo bye; exit 1"]
Y
start_shim "$T/pod.yaml" crash
# The shim keeps only the current and the previous run's log: keep a copy
# of every run's log as it appears.
d=$T/logs
mkdir -p "$d"
ld=$(logdir_of crash)
( while kill -0 "$LAST_SHIM" 2>/dev/null; do cp -p "$ld"/c/*.log "$d"/ 2>/dev/null; sleep 0.05; done ) &
COPIER=$!
wait_for crash '.containerStatuses[0].restartCount >= 6' true 25 || fail "never reached 6 restarts"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
wait "$COPIER"
cp -p "$ld"/c/*.log "$d"/
prev=""
expect=($((200 * SLOW)) $((400 * SLOW)) $((800 * SLOW)) $((1600 * SLOW)) $((1600 * SLOW)) $((1600 * SLOW)))
over=()
for i in 0 1 2 3 4 5 6; do
  line=$(head -1 "$d/$i.log") || fail "no $d/$i.log"
  [[ "$line" =~ ^[0-9T:.-]+Z\ stdout\ F\ start$ ]] || fail "bad CRI line '$line'"
  t=$(ts_ns "${line%% *}")
  bye=$(grep -m1 ' stdout F bye$' "$d/$i.log") || fail "no bye in $d/$i.log"
  if [ -n "$prev" ]; then
    gap=$(( (t - prev) / 1000000 ))
    want=${expect[$((i - 1))]}
    echo "restart $i: gap ${gap} ms (backoff ${want} ms)"
    # The gap is the backoff plus the exit → reap → restart → exec path,
    # which a loaded machine stretches now and then.  Each gap must still
    # tell its step from the next one (below twice the backoff), and the
    # typical overhead must stay small.
    [ "$gap" -ge "$want" ] && [ "$gap" -lt $((2 * want)) ] || fail "gap $gap ms, expected ~$want ms"
    over+=($((gap - want)))
  fi
  prev=$(ts_ns "${bye%% *}")
done
med=$(printf '%s\n' "${over[@]}" | sort -n | sed -n 3p)
echo "median restart overhead ${med} ms"
[ "$med" -le $((150 * SLOW)) ] || fail "median restart overhead $med ms"
ok "backoff sequence 200,400,800,1600,1600,1600 ms"

# 2. After a long run (past the reset window) the image disappears and every
# later start fails; those failed starts ran for 0 ms, so the wait doubles
# (400, 800, 1600, 3200 ms: each long enough for the test to read it from
# the status) instead of resetting on every failure from the
# stale start time.  Each wait is read from the status: the next restart's
# deadline against the time the failure was recorded.
"$PV" --root "$R" image import gone "$(rootfs)" >/dev/null || fail "import gone"
cat > "$T/rt.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: rt
  annotations:
    podvisor.io/backoff-initial: "$((400 * SLOW))ms"
    podvisor.io/backoff-max: "$((10 * SLOW))s"
    podvisor.io/backoff-reset: "${SLOW}s"
spec:
  containers:
  - name: c
    image: gone
    command: ["sh", "-c", "sleep $((15 * SLOW / 10)).$((15 * SLOW % 10)); exit 1"]
Y
start_shim "$T/rt.yaml" rt
wait_for rt '.containerStatuses[0].state.running != null' true 10 || fail "never ran"
# A running container keeps its image (it is locked while the container
# exists): it goes between two runs, during the first backoff.
end=$(($(date +%s) + 5 * SLOW))
until "$PV" --root "$R" image rm gone >/dev/null 2>"$T/rm.err"; do
  [ "$(date +%s)" -lt "$end" ] || fail "image rm gone: $(cat "$T/rm.err"); status: $(jq_status rt '.containerStatuses[0] | {restartCount, state}')"
  sleep 0.02
done
imgs=$("$PV" --root "$R" images) || fail "images failed: $imgs"
grep -q '^busybox ' <<<"$imgs" || fail "images does not list busybox: $imgs"
grep -q '^gone ' <<<"$imgs" && fail "image rm: gone is still listed: $imgs"
wait_for rt '.containerStatuses[0].restartCount >= 1' true 10 || fail "no restart"
# restartCount i, waiting: the wait after the i-th failed start.
expect=($((400 * SLOW)) $((800 * SLOW)) $((1600 * SLOW)) $((3200 * SLOW)))
for i in 1 2 3; do
  # One snapshot of the status decides: the wait may end between two reads.
  w="" end=$((SECONDS + 20 * SLOW))
  while [ "$SECONDS" -le "$end" ]; do
    w=$(jq_status rt '.containerStatuses[0] | select(.restartCount == '"$i"' and .state.waiting.reason == "CrashLoopBackOff") | "\(.lastState.terminated.reason) \(.lastState.terminated.finishedAt) \(.podvisor.nextRestartAt)"')
    [ -n "$w" ] && break
    sleep 0.05
  done
  [ -n "$w" ] || fail "no backoff after failed start $i: $(jq_status rt '.containerStatuses[0] | {restartCount, state}')"
  read -r why fin next <<<"$w"
  [ "$why" = StartError ] || fail "failed start $i: last state '$w'"
  ms=$(( ($(ts_ns "$next") - $(ts_ns "$fin")) / 1000000 ))
  want=${expect[$i]}
  echo "failed start $i: wait ${ms} ms (expected ${want} ms)"
  # A backoff reset by each failure waits the initial one every time.
  [ "$ms" -ge $((want - 50 * SLOW)) ] && [ "$ms" -le $((want + 50 * SLOW)) ] || fail "backoff reset by failed starts: wait $ms ms after failed start $i, expected $want ms"
done
stop_shim "$LAST_SHIM" || fail stop
ok "failed starts count as 0 ms runs"

# 3. Zero backoff: a container whose image is missing fails to start again
# and again, and one that exits at once with a tcpSocket liveness probe
# restarts while its previous run's probe handles are still closing.  Neither
# may take the shim down (unbounded recursion, a probe re-armed while
# closing), the logs of old runs are pruned (current and previous run only),
# and the run times are measured per run.
cat > "$T/zero.yaml" <<Y
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
start_shim "$T/zero.yaml" zero
wait_for zero '.containerStatuses[1].restartCount >= 12' true 20 || fail "quick never restarted 12 times"
wait_for zero '.containerStatuses[0].restartCount > 50 and .containerStatuses[1].restartCount >= 15' true 10 ||
  fail "missing image not retried"
kill -0 "$LAST_SHIM" 2>/dev/null || { cat "$T/shim-zero.log" >&2; fail "shim died"; }
d=$(logdir_of zero)/quick
n=$(ls "$d" | wc -l)
[ "$n" -le 3 ] || fail "old run logs kept: $(ls "$d" | tr '\n' ' ')"
stop_shim "$LAST_SHIM" || fail "shim did not stop"
grep -q "Assertion\|ERROR: AddressSanitizer\|runtime error" "$T/shim-zero.log" && fail "$(cat "$T/shim-zero.log")"
ok "zero backoff: no recursion, no probe reuse, logs pruned"
